// The convolution family's reference kernels (conv2d*.ts), through im2col: for a group of G
// samples, cols [Ci*kh*kw, G*OH*OW] holds the input patch under each output pixel, so all three
// ops become plain matrix products
//   y[o, :] = w[o, :] @ cols,   dcols = w^T @ g (then col2im),   dw[o, :] += g[o, :] @ cols^T
// with long contiguous inner loops; accumulation is in float64. Grouping samples keeps those
// loops long where a sample has few pixels (deep layers: 4x4, 2x2, 1x1).

import type { ConvParams } from "../ir/kinds.js";
import type { Tensor } from "../ir/tensor.js";
import type { ValueType } from "../ir/types.js";
import { allocFloat, floats, type RefContext } from "./def.js";

/** Range of output positions `o` for which o*s + k - p lands inside [0, size). */
function validRange(size: number, outSize: number, k: number, s: number, p: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - k) / s));
  const hi = Math.min(outSize, Math.floor((size - 1 + p - k) / s) + 1);
  return [lo, hi];
}

interface ConvGeometry {
  readonly ci: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly s: number;
  readonly p: number;
}

/** Columns per GEMM the reference kernels aim for: samples are grouped up to this many pixels. */
const GROUP_COLUMNS = 512;

/** Samples per im2col group for a conv with `plane` output pixels per sample. */
const groupSize = (plane: number, n: number): number => Math.max(1, Math.min(n, Math.ceil(GROUP_COLUMNS / plane)));

/**
 * cols[(c*kh + i)*kw + j, off + r*OW + q] = x[sample, c, r*s + i - p, q*s + j - p] in a
 * [K, stride] matrix; entries outside the image are left as they are (the caller zeroes).
 */
function im2col(x: ArrayLike<number>, sample: number, geo: ConvGeometry, cols: Float64Array, stride: number, off: number): void {
  const { ci, h, w, kh, kw, oh, ow, s, p } = geo;
  for (let c = 0; c < ci; c++) {
    const xPlane = (sample * ci + c) * h * w;
    for (let i = 0; i < kh; i++) {
      const [r0, r1] = validRange(h, oh, i, s, p);
      for (let j = 0; j < kw; j++) {
        const [q0, q1] = validRange(w, ow, j, s, p);
        const row = ((c * kh + i) * kw + j) * stride + off;
        for (let r = r0; r < r1; r++) {
          const xRow = xPlane + (r * s + i - p) * w + j - p;
          const cRow = row + r * ow;
          for (let q = q0; q < q1; q++) cols[cRow + q] = x[xRow + q * s];
        }
      }
    }
  }
}

/**
 * The transpose of im2col: adds each column entry of cols [K, stride] back to its input pixel.
 * Its loop nest is im2col's on purpose: sharing it through a per-run callback made the
 * reference convolutions ~40% slower.
 */
function col2imAdd(cols: Float64Array, geo: ConvGeometry, dx: Float64Array, stride: number, off: number): void {
  const { ci, h, w, kh, kw, oh, ow, s, p } = geo;
  for (let c = 0; c < ci; c++) {
    const xPlane = c * h * w;
    for (let i = 0; i < kh; i++) {
      const [r0, r1] = validRange(h, oh, i, s, p);
      for (let j = 0; j < kw; j++) {
        const [q0, q1] = validRange(w, ow, j, s, p);
        const row = ((c * kh + i) * kw + j) * stride + off;
        for (let r = r0; r < r1; r++) {
          const xRow = xPlane + (r * s + i - p) * w + j - p;
          const cRow = row + r * ow;
          for (let q = q0; q < q1; q++) dx[xRow + q * s] += cols[cRow + q];
        }
      }
    }
  }
}

/** gg [Co, G*plane] = samples b0 .. b0+G-1 of t [N, Co, plane], pixels of one channel side by side. */
function gatherGroup(t: ArrayLike<number>, b0: number, g: number, co: number, plane: number, gg: Float64Array): void {
  const width = g * plane;
  for (let i = 0; i < g; i++) {
    for (let o = 0; o < co; o++) {
      const src = ((b0 + i) * co + o) * plane;
      const dst = o * width + i * plane;
      for (let q = 0; q < plane; q++) gg[dst + q] = t[src + q];
    }
  }
}

const BLOCK = 4;

/** A [rows, k] matrix read from `data` at off + r * rowStride + e * colStride. */
interface MatrixView {
  readonly data: ArrayLike<number>;
  readonly off: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/**
 * out[off + r * plane + q] (+)= sum_e A[r, e] * B[e, q] for r < rows, q < plane, with B
 * row-major at bData[bOff + e * plane + q]. Four rows of A share each load of B (a
 * register block), so B is streamed once per block rather than once per row.
 */
function matmulRows(
  a: MatrixView, rows: number, k: number,
  bData: ArrayLike<number>, bOff: number, plane: number,
  out: Float32Array | Float64Array, outOff: number, accumulate: boolean,
): void {
  const acc = new Float64Array(BLOCK * plane);
  const at = (r: number, e: number): number => (r < rows ? a.data[a.off + r * a.rowStride + e * a.colStride] : 0);
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const m = Math.min(BLOCK, rows - r0);
    acc.fill(0);
    for (let e = 0; e < k; e++) {
      const row = bOff + e * plane;
      const w0 = at(r0, e);
      const w1 = at(r0 + 1, e);
      const w2 = at(r0 + 2, e);
      const w3 = at(r0 + 3, e);
      for (let q = 0; q < plane; q++) {
        const c = bData[row + q];
        acc[q] += w0 * c;
        acc[plane + q] += w1 * c;
        acc[2 * plane + q] += w2 * c;
        acc[3 * plane + q] += w3 * c;
      }
    }
    const dst = outOff + r0 * plane;
    if (!accumulate) out.set(acc.subarray(0, m * plane), dst);
    else for (let i = 0; i < m * plane; i++) out[dst + i] += acc[i];
  }
}

function geometry(x: readonly number[], wShape: readonly number[], out: readonly number[], { stride, padding }: ConvParams): ConvGeometry {
  return { ci: x[1], h: x[2], w: x[3], kh: wShape[2], kw: wShape[3], oh: out[2], ow: out[3], s: stride, p: padding };
}

/** y [N, Co, OH, OW] = conv(x [N, Ci, H, W], w [Co, Ci, kh, kw]). */
export function conv2dReference(x: Tensor, w: Tensor, params: ConvParams, out: ValueType, ctx: RefContext): Float32Array | Float64Array {
  const geo = geometry(x.shape, w.shape, out.shape, params);
  const [n, co] = out.shape;
  const k = geo.ci * geo.kh * geo.kw;
  const plane = geo.oh * geo.ow;
  const ws = floats(w);
  const xs = floats(x);
  const y = allocFloat(ctx, n * co * plane);
  const group = groupSize(plane, n);
  const cols = new Float64Array(k * group * plane);
  const yg = new Float64Array(co * group * plane);
  for (let b0 = 0; b0 < n; b0 += group) {
    const g = Math.min(group, n - b0);
    const width = g * plane;
    cols.fill(0);
    for (let i = 0; i < g; i++) im2col(xs, b0 + i, geo, cols, width, i * plane);
    // yg [Co, G*OH*OW] = w [Co, K] @ cols [K, G*OH*OW], then back to [G, Co, OH*OW]
    matmulRows({ data: ws, off: 0, rowStride: k, colStride: 1 }, co, k, cols, 0, width, yg, 0, false);
    for (let i = 0; i < g; i++) {
      for (let o = 0; o < co; o++) y.set(yg.subarray(o * width + i * plane, o * width + (i + 1) * plane), ((b0 + i) * co + o) * plane);
    }
  }
  return y;
}

/** dx [N, Ci, H, W] from the cotangent g [N, Co, OH, OW] and w [Co, Ci, kh, kw]. */
export function conv2dInputGradReference(g: Tensor, w: Tensor, params: ConvParams, out: ValueType, ctx: RefContext): Float32Array | Float64Array {
  const geo = geometry(out.shape, w.shape, g.shape, params);
  const [n, co] = g.shape;
  const k = geo.ci * geo.kh * geo.kw;
  const plane = geo.oh * geo.ow;
  const inSize = geo.ci * geo.h * geo.w;
  const gs = floats(g);
  const ws = floats(w);
  const dx = allocFloat(ctx, n * inSize);
  const group = groupSize(plane, n);
  const gg = new Float64Array(co * group * plane);
  const dcols = new Float64Array(k * group * plane);
  const acc = new Float64Array(inSize);
  for (let b0 = 0; b0 < n; b0 += group) {
    const g = Math.min(group, n - b0);
    const width = g * plane;
    gatherGroup(gs, b0, g, co, plane, gg);
    // dcols [K, G*OH*OW] = w^T [K, Co] @ g [Co, G*OH*OW]
    matmulRows({ data: ws, off: 0, rowStride: 1, colStride: k }, k, co, gg, 0, width, dcols, 0, false);
    for (let i = 0; i < g; i++) {
      acc.fill(0);
      col2imAdd(dcols, geo, acc, width, i * plane);
      dx.set(acc, (b0 + i) * inSize);
    }
  }
  return dx;
}

/**
 * The weight gradient of x [N, Ci, H, W] and g [N, Co, OH, OW] summed per group of N/splits
 * consecutive samples: [splits, Co, Ci*kh*kw] (in float64, rounded once at the end).
 */
export function weightGradReference(x: Tensor, g: Tensor, params: ConvParams, wShape: readonly number[], splits: number, ctx: RefContext): Float32Array | Float64Array {
  const geo = geometry(x.shape, wShape.slice(-4), g.shape, params);
  const [n, co] = g.shape;
  const k = geo.ci * geo.kh * geo.kw;
  const plane = geo.oh * geo.ow;
  const per = n / splits;
  const gs = floats(g);
  const xs = floats(x);
  const acc = new Float64Array(splits * co * k);
  const group = groupSize(plane, per);
  const cols = new Float64Array(k * group * plane);
  const colsT = new Float64Array(group * plane * k);
  const gg = new Float64Array(co * group * plane);
  for (let b0 = 0, g = 0; b0 < n; b0 += g) {
    g = Math.min(group, per - (b0 % per)); // a group never straddles two splits
    const width = g * plane;
    cols.fill(0);
    for (let i = 0; i < g; i++) im2col(xs, b0 + i, geo, cols, width, i * plane);
    for (let e = 0; e < k; e++) for (let q = 0; q < width; q++) colsT[q * k + e] = cols[e * width + q];
    gatherGroup(gs, b0, g, co, plane, gg);
    // dw[split] [Co, K] += g [Co, G*OH*OW] @ cols^T [G*OH*OW, K]
    matmulRows({ data: gg, off: 0, rowStride: width, colStride: 1 }, co, width, colsT, 0, k, acc, Math.floor(b0 / per) * co * k, true);
  }
  const dw = allocFloat(ctx, splits * co * k);
  dw.set(acc);
  return dw;
}

// 2-D convolution (cross-correlation, as PyTorch) and its two gradients as primitives.
//
// Shape legend: N batch, Ci/Co in/out channels, H,W input size, kh,kw kernel size,
// OH = floor((H + 2p - kh) / s) + 1, OW likewise.
//   conv2d             x [N, Ci, H, W]  , w [Co, Ci, kh, kw]  -> y  [N, Co, OH, OW]
//   conv2d_input_grad  g [N, Co, OH, OW], w [Co, Ci, kh, kw]  -> dx [N, Ci, H, W]
//   conv2d_weight_grad x [N, Ci, H, W]  , g [N, Co, OH, OW]   -> dw [Co, Ci, kh, kw]
//   conv2d_weight_grad_partial (splits S, S divides N)
//                      x [N, Ci, H, W]  , g [N, Co, OH, OW]   -> [S, Co, Ci, kh, kw]
//     part s is conv2d_weight_grad of samples [s*N/S, (s+1)*N/S) only, so the weight
//     gradient is its sum over axis 0 (split-K: see `weightGrad`).
// The three are bilinear and each one's VJP is built from the other two (JAX's
// _conv_general_dilated_transpose_lhs/_rhs), so second derivatives work too; the partial's
// VJP is the same per sample group.

import { formatType } from "../ir/shape.js";
import type { ValueType } from "../ir/types.js";
import type { GraphBuilder } from "../graph/builder.js";
import type { Value } from "../ir/value.js";
import { allocFloat, check, floats, requireDType, requireRank, type OpDef, type RefContext } from "./def.js";
import type { Tensor } from "../ir/tensor.js";
import type { ConvParams } from "../ir/kinds.js";
import type { KernelRequest, KernelSource } from "../wgsl/kernel.js";
import { gemmKernel, type GemmTiles } from "../wgsl/gemm.js";
import { bindings } from "../wgsl/wgsl.js";

export function convOutSize(size: number, k: number, { stride, padding }: ConvParams): number {
  return Math.floor((size + 2 * padding - k) / stride) + 1;
}

function checkConvParams(op: string, p: ConvParams): void {
  check(op, Number.isInteger(p.stride) && p.stride >= 1, () => `stride must be a positive integer, got ${p.stride}`);
  check(op, Number.isInteger(p.padding) && p.padding >= 0, () => `padding must be a non-negative integer, got ${p.padding}`);
}

/** Output spatial size of x * w, checked to be at least 1x1. */
function outSpatial(op: string, x: ValueType, kh: number, kw: number, p: ConvParams): [number, number] {
  const [, , h, w] = x.shape;
  const oh = convOutSize(h, kh, p);
  const ow = convOutSize(w, kw, p);
  check(op, oh >= 1 && ow >= 1, () => `kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${p.padding}`);
  return [oh, ow];
}

/** Range of output positions `o` for which o*s + k - p lands inside [0, size). */
function validRange(size: number, outSize: number, k: number, s: number, p: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - k) / s));
  const hi = Math.min(outSize, Math.floor((size - 1 + p - k) / s) + 1);
  return [lo, hi];
}

// The reference kernels go through im2col: for a group of G samples, cols [Ci*kh*kw, G*OH*OW]
// holds the input patch under each output pixel, so all three ops become plain matrix products
//   y[o, :] = w[o, :] @ cols,   dcols = w^T @ g (then col2im),   dw[o, :] += g[o, :] @ cols^T
// with long contiguous inner loops; accumulation is in float64. Grouping samples keeps those
// loops long where a sample has few pixels (deep layers: 4x4, 2x2, 1x1).

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

/** The transpose of im2col: adds each column entry of cols [K, stride] back to its input pixel. */
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

export const conv2d: OpDef<"conv2d"> = {
  kind: "conv2d",
  arity: 2,
  shape: ([x, w], p) => {
    const op = "conv2d";
    checkConvParams(op, p);
    requireDType(op, [x, w], "f32");
    requireRank(op, "input [N, Ci, H, W]", x, 4);
    requireRank(op, "weight [Co, Ci, kh, kw]", w, 4);
    check(op, x.shape[1] === w.shape[1], () => `input channels ${x.shape[1]} (${formatType(x)}) != weight in-channels ${w.shape[1]} (${formatType(w)})`);
    const [oh, ow] = outSpatial(op, x, w.shape[2], w.shape[3], p);
    return { shape: [x.shape[0], w.shape[0], oh, ow], dtype: "f32" };
  },
  vjp: ({ b, g, inputs: [x, w], params, wants }) => [
    wants[0] ? b.op("conv2d_input_grad", [g, w], { ...params, inputSize: [x.shape[2], x.shape[3]] }) : null,
    wants[1] ? weightGrad(b, x, g, params, [w.shape[2], w.shape[3]]) : null,
  ],
  reference: ([x, w], params, out, ctx) => {
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
  },
  wgsl: (req) => conv2dKernel(req),
};

export const conv2dInputGrad: OpDef<"conv2d_input_grad"> = {
  kind: "conv2d_input_grad",
  arity: 2,
  shape: ([g, w], p) => {
    const op = "conv2d_input_grad";
    checkConvParams(op, p);
    requireDType(op, [g, w], "f32");
    requireRank(op, "cotangent [N, Co, OH, OW]", g, 4);
    requireRank(op, "weight [Co, Ci, kh, kw]", w, 4);
    check(op, g.shape[1] === w.shape[0], () => `cotangent channels ${g.shape[1]} != weight out-channels ${w.shape[0]}`);
    const [h, wd] = p.inputSize;
    const x: ValueType = { shape: [g.shape[0], w.shape[1], h, wd], dtype: "f32" };
    const [oh, ow] = outSpatial(op, x, w.shape[2], w.shape[3], p);
    check(op, oh === g.shape[2] && ow === g.shape[3], () => `input size ${h}x${wd} gives output ${oh}x${ow}, but the cotangent is ${formatType(g)}`);
    return x;
  },
  vjp: ({ b, g: u, inputs: [g, w], params, wants }) => [
    wants[0] ? b.conv2d(u, w, params) : null,
    wants[1] ? weightGrad(b, u, g, { stride: params.stride, padding: params.padding }, [w.shape[2], w.shape[3]]) : null,
  ],
  reference: ([g, w], params, out, ctx) => {
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
  },
  wgsl: (req) => conv2dInputGradKernel(req),
};

export const conv2dWeightGrad: OpDef<"conv2d_weight_grad"> = {
  kind: "conv2d_weight_grad",
  arity: 2,
  shape: ([x, g], p) => {
    const op = "conv2d_weight_grad";
    checkConvParams(op, p);
    requireDType(op, [x, g], "f32");
    requireRank(op, "input [N, Ci, H, W]", x, 4);
    requireRank(op, "cotangent [N, Co, OH, OW]", g, 4);
    check(op, x.shape[0] === g.shape[0], () => `batch of input ${formatType(x)} != batch of cotangent ${formatType(g)}`);
    const [kh, kw] = p.kernelSize;
    const [oh, ow] = outSpatial(op, x, kh, kw, p);
    check(op, oh === g.shape[2] && ow === g.shape[3], () => `kernel ${kh}x${kw} on ${formatType(x)} gives output ${oh}x${ow}, but the cotangent is ${formatType(g)}`);
    return { shape: [g.shape[1], x.shape[1], kh, kw], dtype: "f32" };
  },
  vjp: ({ b, g: v, inputs: [x, g], params, wants }) => [
    wants[0] ? b.op("conv2d_input_grad", [g, v], { stride: params.stride, padding: params.padding, inputSize: [x.shape[2], x.shape[3]] }) : null,
    wants[1] ? b.conv2d(x, v, params) : null,
  ],
  reference: ([x, g], params, out, ctx) => weightGradReference(x, g, params, out.shape, 1, ctx),
  wgsl: (req) => conv2dWeightGradKernel(req),
};

/**
 * The weight gradient of x [N, Ci, H, W] and g [N, Co, OH, OW] summed per group of N/splits
 * consecutive samples: [splits, Co, Ci*kh*kw] (in float64, rounded once at the end).
 */
function weightGradReference(x: Tensor, g: Tensor, params: ConvParams, wShape: readonly number[], splits: number, ctx: RefContext): Float32Array | Float64Array {
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

/**
 * Pixels (GEMM K) per part a weight gradient is split into, at most WEIGHT_GRAD_MAX_SPLITS
 * parts. H200, x [64, 64, 32, 32] w [64, 64, 3, 3] (K 65536), GEMM plus reduce_sum: 7.1 ms
 * unsplit, 0.57 / 0.40 / 0.33 / 0.29 ms in 8 / 16 / 32 / 64 parts.
 */
export const WEIGHT_GRAD_SPLIT_CHUNK = 1024;
/** Reductions shorter than this (N*OH*OW) are not split. */
export const WEIGHT_GRAD_SPLIT_MIN = 8192;
/** Most parts a weight gradient is split into. */
export const WEIGHT_GRAD_MAX_SPLITS = 64;

/**
 * How many sample groups the weight gradient of a conv with these shapes sums separately
 * (split-K), from the shapes only so every device computes the same graph. Its GEMM is
 * [Co x N*OH*OW] @ [N*OH*OW x Ci*kh*kw]: a small output and a long reduction leave a GPU with
 * a few dozen workgroups walking K = N*OH*OW each. Splitting into S parts of about
 * WEIGHT_GRAD_SPLIT_CHUNK pixels gives S times the workgroups, for an extra [S, Co, Ci, kh, kw]
 * buffer and a short reduction. S divides N (parts are whole samples), so it is the largest
 * divisor of N up to that target; 1 when K is short, when N is 1 or when the output alone
 * already makes ~2048 workgroups.
 */
export function weightGradSplits(x: readonly number[], g: readonly number[], kernelSize: readonly [number, number]): number {
  const [n, ci] = x;
  const [, co, oh, ow] = g;
  const reduction = n * oh * ow;
  if (reduction < WEIGHT_GRAD_SPLIT_MIN) return 1;
  // past ~2048 workgroups of 64x64 output tiles (and 32 MiB of parts) more parts gain nothing
  const tiles = Math.ceil(co / 64) * Math.ceil((ci * kernelSize[0] * kernelSize[1]) / 64);
  const target = Math.min(WEIGHT_GRAD_MAX_SPLITS, Math.ceil(reduction / WEIGHT_GRAD_SPLIT_CHUNK), Math.floor(2048 / tiles));
  let splits = 1;
  for (let d = 2; d <= Math.min(target, n); d++) if (n % d === 0) splits = d;
  return splits;
}

/**
 * The conv weight gradient dw [Co, Ci, kh, kw] of x and cotangent g: conv2d_weight_grad, or,
 * where `weightGradSplits` says so, the sum over axis 0 of conv2d_weight_grad_partial.
 */
export function weightGrad(b: GraphBuilder, x: Value, g: Value, conv: ConvParams, kernelSize: readonly [number, number]): Value {
  const params = { stride: conv.stride, padding: conv.padding, kernelSize };
  const splits = weightGradSplits(x.shape, g.shape, kernelSize);
  if (splits === 1) return b.op("conv2d_weight_grad", [x, g], params);
  return b.sum(b.op("conv2d_weight_grad_partial", [x, g], { ...params, splits }), 0);
}

export const conv2dWeightGradPartial: OpDef<"conv2d_weight_grad_partial"> = {
  kind: "conv2d_weight_grad_partial",
  arity: 2,
  shape: ([x, g], p) => {
    const op = "conv2d_weight_grad_partial";
    const { splits, ...params } = p;
    const [n] = x.shape;
    const dw = conv2dWeightGrad.shape([x, g], params);
    check(op, Number.isInteger(splits) && splits >= 1 && n % splits === 0, () => `splits must be a positive integer dividing the batch ${n}, got ${splits}`);
    return { shape: [splits, ...dw.shape], dtype: "f32" };
  },
  // Part s is conv2d_weight_grad of sample group s, so its VJP is that op's on the group:
  // dx and dg of each group from v[s], concatenated along the batch.
  vjp: ({ b, g: v, inputs: [x, g], params, wants }) => {
    const { splits, stride, padding, kernelSize } = params;
    const per = x.shape[0] / splits;
    const dx: Value[] = [];
    const dg: Value[] = [];
    for (let s = 0; s < splits; s++) {
      const part = (t: Value) => (splits === 1 ? t : b.sliceAxis(t, 0, s * per, (s + 1) * per));
      const vs = b.reshape(splits === 1 ? v : b.sliceAxis(v, 0, s, s + 1), v.shape.slice(1));
      if (wants[0]) dx.push(b.op("conv2d_input_grad", [part(g), vs], { stride, padding, inputSize: [x.shape[2], x.shape[3]] }));
      if (wants[1]) dg.push(b.conv2d(part(x), vs, { stride, padding }));
    }
    const join = (ts: Value[]) => (ts.length === 1 ? ts[0] : b.concat(ts, 0));
    return [wants[0] ? join(dx) : null, wants[1] ? join(dg) : null];
  },
  reference: ([x, g], params, out, ctx) => weightGradReference(x, g, params, out.shape, params.splits, ctx),
  wgsl: (req) => conv2dWeightGradPartialKernel(req),
};

// WGSL: all three are implicit GEMMs (compiler/wgsl/gemm.ts) whose im2col gathers happen
// while the tiles are staged; nothing is materialised. With P = N*OH*OW output pixels,
// Q = N*H*W input pixels and taps (c, i, j) flattened as (c*kh + i)*kw + j:
//   conv2d              y [Co, P]          = w [Co, Ci*kh*kw]  @ cols(x) [Ci*kh*kw, P]
//   conv2d_input_grad   dx [Ci, Q]         = w^T [Ci, Co*kh*kw] @ taps(g) [Co*kh*kw, Q]
//   conv2d_weight_grad  dw [Co, Ci*kh*kw]  = g [Co, P]          @ cols(x)^T [P, Ci*kh*kw]
// where taps(g)[(co, i, j), (n, h, w)] = g[n, co, (h + p - i) / s, (w + p - j) / s] when the
// division is exact and in range, else 0 (a strided transposed convolution as a gather).
// Pixels of all samples share the GEMM's n (or k) axis, so deep layers with few pixels per
// sample still fill whole tiles. Coordinates that may be negative are i32, and a bounds check
// `u32(v) < size` rejects both ends.

/**
 * What a thread decodes once per staged column (or row): a base offset and the (y, x) origin
 * of its window: an output pixel's (conv2d), an input pixel's (input grad) or a tap's
 * (weight grad).
 */
const PIXEL_STRUCT = "struct Pixel { base: u32, y: i32, x: i32 }";

/** Geometry constants of a conv, for the WGSL templates. */
function convConsts(x: readonly number[], wShape: readonly number[], out: readonly number[], { stride, padding }: ConvParams) {
  const [, ci, h, w] = x;
  const [co, , kh, kw] = wShape;
  const [oh, ow] = [out[2], out[3]];
  return { n: x[0], ci, co, h, w, kh, kw, oh, ow, s: stride, p: padding, khw: kh * kw, hw: h * w, ohw: oh * ow };
}

/** WGSL that splits a flattened tap index `name` into `c`, `i`, `j` (unused ones are cheap). */
function splitTap(name: string, kh: number, kw: number): string {
  return `let c = ${name} / ${kh * kw}u; let i = (${name} / ${kw}u) % ${kh}u; let j = ${name} % ${kw}u;`;
}

/** y [N, Co, OH, OW] = conv(x [N, Ci, H, W], w [Co, Ci, kh, kw]) as w @ cols(x). */
export function conv2dKernel({ inputs: [x, w], out, params, limits }: KernelRequest<"conv2d">, tiles?: GemmTiles): KernelSource {
  const g = convConsts(x.shape, w.shape, out.shape, params);
  const k = g.ci * g.khw;
  return gemmKernel(
    {
      op: "conv2d", batch: 1, m: g.co, n: g.n * g.ohw, k,
      prelude: `${bindings([x, w], out)}\n${PIXEL_STRUCT}`,
      // A = w [Co, K], row-major
      a: { fast: "k", state: "u32", col: `  return x * ${k}u;`, at: "  return in1[s + k];" },
      // B = cols(x) [K, P]: column = output pixel (n, oh, ow), row = tap (c, i, j)
      b: {
        fast: "x",
        state: "Pixel",
        col: `  let r = x % ${g.ohw}u;
  return Pixel((x / ${g.ohw}u) * ${g.ci * g.hw}u, i32((r / ${g.ow}u) * ${g.s}u) - ${g.p}, i32((r % ${g.ow}u) * ${g.s}u) - ${g.p});`,
        at: `  ${splitTap("k", g.kh, g.kw)}
  let y = u32(s.y + i32(i));
  let x = u32(s.x + i32(j));
  let ok = y < ${g.h}u && x < ${g.w}u;
  return select(0.0, in0[select(0u, s.base + c * ${g.hw}u + y * ${g.w}u + x, ok)], ok);`,
      },
      store: `  out[((n / ${g.ohw}u) * ${g.co}u + m) * ${g.ohw}u + n % ${g.ohw}u] = v;`,
    },
    limits,
    tiles,
  );
}

/** dx [N, Ci, H, W] from g [N, Co, OH, OW] and w [Co, Ci, kh, kw], as w^T @ taps(g). */
export function conv2dInputGradKernel({ inputs: [gy, w], out, params, limits }: KernelRequest<"conv2d_input_grad">, tiles?: GemmTiles): KernelSource {
  const g = convConsts(out.shape, w.shape, gy.shape, params);
  // (h + p - i) must be a non-negative multiple of s; for s = 1 only the sign matters
  const strided = g.s === 1 ? "" : ` && y % ${g.s} == 0 && x % ${g.s} == 0`;
  return gemmKernel(
    {
      op: "conv2d_input_grad", batch: 1, m: g.ci, n: g.n * g.hw, k: g.co * g.khw,
      prelude: `${bindings([gy, w], out)}\n${PIXEL_STRUCT}`,
      // A = w^T [Ci, Co*kh*kw]: row c, column (co, i, j) at w[co, c, i, j]
      a: {
        fast: "k",
        state: "u32",
        col: `  return x * ${g.khw}u;`,
        at: `  return in1[(k / ${g.khw}u) * ${g.ci * g.khw}u + s + k % ${g.khw}u];`,
      },
      // B = taps(g) [Co*kh*kw, Q]: column = input pixel (n, h, w), row = (co, i, j)
      b: {
        fast: "x",
        state: "Pixel",
        col: `  let r = x % ${g.hw}u;
  return Pixel((x / ${g.hw}u) * ${g.co * g.ohw}u, i32(r / ${g.w}u) + ${g.p}, i32(r % ${g.w}u) + ${g.p});`,
        at: `  ${splitTap("k", g.kh, g.kw)}
  let y = s.y - i32(i);
  let x = s.x - i32(j);
  let oy = u32(y) / ${g.s}u;
  let ox = u32(x) / ${g.s}u;
  let ok = y >= 0 && x >= 0${strided} && oy < ${g.oh}u && ox < ${g.ow}u;
  return select(0.0, in0[select(0u, s.base + c * ${g.ohw}u + oy * ${g.ow}u + ox, ok)], ok);`,
      },
      store: `  out[((n / ${g.hw}u) * ${g.ci}u + m) * ${g.hw}u + n % ${g.hw}u] = v;`,
    },
    limits,
    tiles,
  );
}

/** dw [Co, Ci, kh, kw] from x [N, Ci, H, W] and g [N, Co, OH, OW], as g @ cols(x)^T. */
export function conv2dWeightGradKernel({ inputs: [x, gy], out, params, limits }: KernelRequest<"conv2d_weight_grad">, tiles?: GemmTiles): KernelSource {
  return weightGradGemm("conv2d_weight_grad", x.shape, gy.shape, out.shape, params, 1, [x, gy], out, limits, tiles);
}

/**
 * [S, Co, Ci, kh, kw] from x [N, Ci, H, W] and g [N, Co, OH, OW]: the same GEMM split along K
 * (= the samples' pixels) into S chunks of N/S whole samples, the GEMM's batch index naming the
 * chunk.
 */
export function conv2dWeightGradPartialKernel({ inputs: [x, gy], out, params, limits }: KernelRequest<"conv2d_weight_grad_partial">, tiles?: GemmTiles): KernelSource {
  return weightGradGemm("conv2d_weight_grad_partial", x.shape, gy.shape, out.shape, params, params.splits, [x, gy], out, limits, tiles);
}

function weightGradGemm(
  op: string, xShape: readonly number[], gShape: readonly number[], outShape: readonly number[], params: ConvParams, splits: number,
  ins: readonly ValueType[], out: ValueType, limits: KernelRequest<"conv2d_weight_grad">["limits"], tiles?: GemmTiles,
): KernelSource {
  const g = convConsts(xShape, outShape.slice(-4), gShape, params);
  const taps = g.ci * g.khw;
  return gemmKernel(
    {
      op, batch: splits, m: g.co, n: taps, k: g.n * g.ohw,
      ...(splits > 1 ? { splitK: (g.n / splits) * g.ohw } : {}),
      prelude: `${bindings(ins, out)}\n${PIXEL_STRUCT}`,
      // A = g as [Co, P]: row co, column = output pixel (n, oh, ow)
      a: {
        fast: "k",
        state: "u32",
        col: `  return x * ${g.ohw}u;`,
        at: `  return in1[(k / ${g.ohw}u) * ${g.co * g.ohw}u + s + k % ${g.ohw}u];`,
      },
      // B = cols(x)^T [P, Ci*kh*kw]: row = output pixel, column = tap (c, i, j)
      b: {
        fast: "k",
        state: "Pixel",
        col: `  ${splitTap("x", g.kh, g.kw)}
  return Pixel(c * ${g.hw}u, i32(i) - ${g.p}, i32(j) - ${g.p});`,
        at: `  let r = k % ${g.ohw}u;
  let y = u32(i32((r / ${g.ow}u) * ${g.s}u) + s.y);
  let x = u32(i32((r % ${g.ow}u) * ${g.s}u) + s.x);
  let ok = y < ${g.h}u && x < ${g.w}u;
  return select(0.0, in0[select(0u, (k / ${g.ohw}u) * ${g.ci * g.hw}u + s.base + y * ${g.w}u + x, ok)], ok);`,
      },
      store: splits > 1 ? `  out[(b * ${g.co}u + m) * ${taps}u + n] = v;` : `  out[m * ${taps}u + n] = v;`,
    },
    limits,
    tiles,
  );
}

// The convolution family's WGSL templates (conv2d*.ts).
//
// All of them are implicit GEMMs (compiler/wgsl/gemm.ts) whose im2col gathers happen
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

import type { ConvParams } from "../ir/kinds.js";
import type { ValueType } from "../ir/types.js";
import { gemmKernel, type GemmTiles } from "../wgsl/gemm.js";
import type { KernelRequest, KernelSource } from "../wgsl/kernel.js";
import { bindings } from "../wgsl/wgsl.js";

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

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
import { gemmBindings, gemmKernel, type GemmTiles } from "../wgsl/gemm.js";
import type { Epilogue, KernelRequest, KernelSource } from "../wgsl/kernel.js";
import { bindings } from "../wgsl/wgsl.js";
import { Dims } from "../wgsl/dims.js";

/**
 * What a thread decodes once per staged column (or row): the (y, x) origin of its window (an
 * output pixel's for conv2d, an input pixel's for the input grad, a tap's for the weight grad)
 * and `off`, the linear offset of that origin in the gathered tensor (negative in the padding).
 * The gather then adds an offset that depends on k alone, the same in every lane, so the
 * per-lane work is adds and compares, with no multiply by a size.
 */
const PIXEL_STRUCT = "struct Pixel { off: i32, y: i32, x: i32 }";

/**
 * A conv's geometry for the WGSL templates, as `dims.` expressions (one pipeline serves every
 * batch, channel count and image size); kernel size, stride and padding stay constants where
 * they shape a K loop's tap decode and the stride test. Decodes outside the K loop read them from
 * the uniform instead (`d`): the forward's stride and padding, the weight gradient's all three,
 * so convolutions differing only there share a pipeline (~100 ms of LLVM each on lavapipe).
 * `div`/`mod` divide by a size (`ohw`, `ow`, `hw`, `w`) an index that stays below `bound`.
 */
function convDims(x: readonly number[], wShape: readonly number[], out: readonly number[], { stride, padding }: ConvParams) {
  const [n, ci, h, w] = x;
  const [co, , kh, kw] = wShape;
  const [oh, ow] = [out[2], out[3]];
  const d = new Dims();
  const sizes = { n, ci, co, h, w, oh, ow, hw: h * w, ohw: oh * ow, cihw: ci * h * w, coohw: co * oh * ow, cikhw: ci * kh * kw, khw: kh * kw };
  const u = (name: keyof typeof sizes) => d.u(name, sizes[name]);
  return {
    dims: d, u, kh, kw, khw: kh * kw, s: stride, p: padding, sizes,
    /** `dims.<name>` of another value, u32 ("pad" as i32) */
    d: (name: "kw" | "stride" | "pad", value: number) => (name === "pad" ? d.i(name, value) : d.u(name, value)),
    div: (x: string, name: "ohw" | "ow" | "hw" | "w", bound: number) => d.div(x, name, sizes[name], bound),
    mod: (x: string, name: "ohw" | "ow" | "hw" | "w", bound: number) => d.mod(x, name, sizes[name], bound),
  };
}

/** WGSL that splits a flattened tap index `name` into `c`, `i`, `j` (unused ones are cheap). */
function splitTap(name: string, kh: number, kw: number): string {
  return `let c = ${name} / ${kh * kw}u; let i = (${name} / ${kw}u) % ${kh}u; let j = ${name} % ${kw}u;`;
}

/** y [N, Co, OH, OW] = conv(x [N, Ci, H, W], w [Co, Ci, kh, kw]) as w @ cols(x). */
export function conv2dKernel({ inputs: [x, w], out, params, limits, epilogue }: KernelRequest<"conv2d">, tiles?: GemmTiles): KernelSource {
  const g = convDims(x.shape, w.shape, out.shape, params);
  const pixels = g.sizes.n * g.sizes.ohw;
  return gemmKernel(
    {
      op: "conv2d", batch: 1, m: g.sizes.co, n: pixels, k: g.sizes.cikhw,
      ...gemmBindings(2, g.dims, epilogue),
      prelude: `${bindings([x, w, ...(epilogue?.inputs ?? [])], out)}\n${PIXEL_STRUCT}`,
      // A = w [Co, K], row-major
      a: { fast: "k", state: "u32", col: `  return x * ${g.u("cikhw")};`, at: "  return in1[s + k];" },
      // B = cols(x) [K, P]: column = output pixel (n, oh, ow), row = tap (c, i, j)
      b: {
        fast: "x",
        state: "Pixel",
        col: `  let q = ${g.div("x", "ohw", pixels)};
  let r = x - q * ${g.u("ohw")};
  let oy = ${g.div("r", "ow", g.sizes.ohw)};
  let py = i32(oy * ${g.d("stride", g.s)}) - ${g.d("pad", g.p)};
  let px = i32((r - oy * ${g.u("ow")}) * ${g.d("stride", g.s)}) - ${g.d("pad", g.p)};
  return Pixel(i32(q * ${g.u("cihw")}) + py * i32(${g.u("w")}) + px, py, px);`,
        at: `  ${splitTap("k", g.kh, g.kw)}
  let ok = u32(s.y + i32(i)) < ${g.u("h")} && u32(s.x + i32(j)) < ${g.u("w")};
  return select(0.0, in0[select(0u, u32(s.off + i32(c * ${g.u("hw")} + i * ${g.u("w")} + j)), ok)], ok);`,
      },
      store: `  let q = ${g.div("n", "ohw", pixels)};
  write((q * ${g.u("co")} + m) * ${g.u("ohw")} + n - q * ${g.u("ohw")}, v);`,
    },
    limits,
    tiles,
  );
}

/** dx [N, Ci, H, W] from g [N, Co, OH, OW] and w [Co, Ci, kh, kw], as w^T @ taps(g); strided: by phases. */
export function conv2dInputGradKernel(req: KernelRequest<"conv2d_input_grad">, tiles?: GemmTiles): KernelSource {
  const { inputs: [gy, w], out, params, limits, epilogue } = req;
  if (params.stride > 1) return stridedInputGradKernel(req, tiles);
  const g = convDims(out.shape, w.shape, gy.shape, params);
  const pixels = g.sizes.n * g.sizes.hw;
  return gemmKernel(
    {
      op: "conv2d_input_grad", batch: 1, m: g.sizes.ci, n: pixels, k: g.sizes.co * g.khw,
      ...gemmBindings(2, g.dims, epilogue),
      prelude: `${bindings([gy, w, ...(epilogue?.inputs ?? [])], out)}\n${PIXEL_STRUCT}`,
      // A = w^T [Ci, Co*kh*kw]: row c, column (co, i, j) at w[co, c, i, j]
      a: {
        fast: "k",
        state: "u32",
        col: `  return x * ${g.khw}u;`,
        at: `  return in1[(k / ${g.khw}u) * ${g.u("cikhw")} + s + k % ${g.khw}u];`,
      },
      // B = taps(g) [Co*kh*kw, Q]: column = input pixel (n, h, w), row = (co, i, j)
      b: {
        fast: "x",
        state: "Pixel",
        col: `  let q = ${g.div("x", "hw", pixels)};
  let r = x - q * ${g.u("hw")};
  let y = ${g.div("r", "w", g.sizes.hw)};
  let py = i32(y) + ${g.p};
  let px = i32(r - y * ${g.u("w")}) + ${g.p};
  let base = i32(q * ${g.u("coohw")});
  return Pixel(base + py * i32(${g.u("ow")}) + px, py, px);`,
        // (oy, ox) = (y + p - i, x + p - j), so the offset is off - (i * OW + j)
        at: `  ${splitTap("k", g.kh, g.kw)}
  let y = s.y - i32(i);
  let x = s.x - i32(j);
  let ok = y >= 0 && x >= 0 && u32(y) < ${g.u("oh")} && u32(x) < ${g.u("ow")};
  return select(0.0, in0[select(0u, u32(s.off + i32(c * ${g.u("ohw")}) - i32(i * ${g.u("ow")} + j)), ok)], ok);`,
      },
      store: `  let q = ${g.div("n", "hw", pixels)};
  write((q * ${g.u("ci")} + m) * ${g.u("hw")} + n - q * ${g.u("hw")}, v);`,
    },
    limits,
    tiles,
  );
}

/**
 * The input gradient of a strided convolution, by phases: input pixel (y, x) only meets the
 * taps i = (y + p) mod s (mod s), j likewise, so the s^2 phases (py, px) = ((y + p) mod s,
 * (x + p) mod s) are s^2 dense GEMMs, one a batch, each over its own pixels (y = y0 + s ty) and
 * its ceil((kh - py) / s) x ceil((kw - px) / s) taps (spec.kEnd), the kernel's own K. As one
 * GEMM over every tap, 3/4 of a 3x3 stride-2 kernel's K steps were taps that fail the stride
 * test: ~2-3 GFLOP/s against ~12 for the other convolutions on lavapipe (bench/RESULTS.md).
 * A phase's pixels are padded to ceil(H / s) x ceil(W / s); the store skips those past the image.
 */
function stridedInputGradKernel({ inputs: [gy, w], out, params, limits, epilogue }: KernelRequest<"conv2d_input_grad">, tiles?: GemmTiles): KernelSource {
  const g = convDims(out.shape, w.shape, gy.shape, params);
  const { s, p, kh, kw } = g;
  const [hc, wc] = [Math.ceil(g.sizes.h / s), Math.ceil(g.sizes.w / s)];
  const pixels = g.sizes.n * hc * wc;
  const d = g.dims;
  const HCWC = d.u("hcwc", hc * wc);
  const WC = d.u("wc", wc);
  // the phase of batch b, and its first pixel y0 = (py - p) mod s (the constant keeps it unsigned)
  const phase = `let py = b / ${s}u; let px = b % ${s}u;`;
  const first = (ph: string) => `(${ph} + ${s * (Math.floor(p / s) + 1) - p}u) % ${s}u`;
  const taps = (ph: string, k: number) => `select(0u, (${k}u - ${ph} + ${s - 1}u) / ${s}u, ${ph} < ${k}u)`;
  // pixel `idx` of batch b's phase: its sample q and its place (y, xx) in the image
  const pixelOf = (idx: string) => `  ${phase}
  let q = ${d.div(idx, "hcwc", hc * wc, pixels)};
  let r = ${idx} - q * ${HCWC};
  let ty = ${d.div("r", "wc", wc, hc * wc)};
  let y = ${first("py")} + ${s}u * ty;
  let xx = ${first("px")} + ${s}u * (r - ty * ${WC});`;
  return gemmKernel(
    {
      op: "conv2d_input_grad", batch: s * s, m: g.sizes.ci, n: pixels, k: g.sizes.co * Math.ceil(kh / s) * Math.ceil(kw / s),
      kEnd: `${g.u("co")} * ${taps("(b / " + s + "u)", kh)} * ${taps("(b % " + s + "u)", kw)}`,
      ...gemmBindings(2, d, epilogue),
      prelude: `${bindings([gy, w, ...(epilogue?.inputs ?? [])], out)}\n${PIXEL_STRUCT}\nstruct Tap { co: u32, i: u32, j: u32, py: u32, px: u32 }`,
      // k walks the phase's taps (co, i, j), i = py, py + s, ...: decoded once, then stepped
      kWalk: {
        state: "Tap",
        at: `  ${phase}
  let nj = ${taps("px", kw)};
  let per = max(${taps("py", kh)} * nj, 1u);
  let r = k % per;
  return Tap(k / per, py + ${s}u * (r / max(nj, 1u)), px + ${s}u * (r % max(nj, 1u)), py, px);`,
        next: `  var t = k;
  t.j += ${s}u;
  if (t.j >= ${kw}u) {
    t.j = t.px;
    t.i += ${s}u;
    if (t.i >= ${kh}u) { t.i = t.py; t.co += 1u; }
  }
  return t;`,
      },
      // A = w^T: row c, the tap (co, i, j) at w[co, c, i, j]
      a: { fast: "k", state: "u32", col: `  return x * ${g.khw}u;`, at: `  return in1[k.co * ${g.u("cikhw")} + s + k.i * ${kw}u + k.j];` },
      // B: column = a pixel of the phase (n, ty, tx) at (y, x) = (y0 + s ty, x0 + s tx); (y + p - i) / s is exact
      b: {
        fast: "x",
        state: "Pixel",
        col: `${pixelOf("x")}
  return Pixel(i32(q * ${g.u("coohw")}), i32(y) + ${p}, i32(xx) + ${p});`,
        at: `  let ty = s.y - i32(k.i);
  let tx = s.x - i32(k.j);
  let oy = u32(ty) / ${s}u;
  let ox = u32(tx) / ${s}u;
  let ok = ty >= 0 && tx >= 0 && oy < ${g.u("oh")} && ox < ${g.u("ow")};
  return select(0.0, in0[select(0u, u32(s.off) + k.co * ${g.u("ohw")} + oy * ${g.u("ow")} + ox, ok)], ok);`,
      },
      store: `${pixelOf("n")}
  if (y < ${g.u("h")} && xx < ${g.u("w")}) { write(((q * ${g.u("ci")} + m) * ${g.u("h")} + y) * ${g.u("w")} + xx, v); }`,
    },
    limits,
    tiles,
  );
}

/** dw [Co, Ci, kh, kw] from x [N, Ci, H, W] and g [N, Co, OH, OW], as g @ cols(x)^T. */
export function conv2dWeightGradKernel({ inputs: [x, gy], out, params, limits, epilogue }: KernelRequest<"conv2d_weight_grad">, tiles?: GemmTiles): KernelSource {
  return weightGradGemm("conv2d_weight_grad", x.shape, gy.shape, out.shape, params, 1, [x, gy], out, limits, tiles, epilogue);
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
  ins: readonly ValueType[], out: ValueType, limits: KernelRequest<"conv2d_weight_grad">["limits"], tiles?: GemmTiles, epilogue?: Epilogue,
): KernelSource {
  const g = convDims(xShape, outShape.slice(-4), gShape, params);
  const pixels = g.sizes.n * g.sizes.ohw;
  return gemmKernel(
    {
      op, batch: splits, m: g.sizes.co, n: g.sizes.cikhw, k: pixels,
      ...(splits > 1 ? { splitK: (g.sizes.n / splits) * g.sizes.ohw } : {}),
      ...gemmBindings(ins.length, g.dims, epilogue),
      prelude: `${bindings([...ins, ...(epilogue?.inputs ?? [])], out)}\n${PIXEL_STRUCT}\nstruct OutPixel { q: u32, r: u32, oy: u32, ox: u32 }`,
      // k is an output pixel: sample q, r = oy * OW + ox within it; the same in every lane
      kWalk: {
        state: "OutPixel",
        at: `  let q = ${g.div("k", "ohw", pixels)};
  let r = k - q * ${g.u("ohw")};
  let oy = ${g.div("r", "ow", g.sizes.ohw)};
  return OutPixel(q, r, oy, r - oy * ${g.u("ow")});`,
        next: `  var p = k;
  p.r += 1u;
  p.ox += 1u;
  if (p.ox == ${g.u("ow")}) {
    p.ox = 0u;
    p.oy += 1u;
    if (p.oy == ${g.u("oh")}) { p.oy = 0u; p.r = 0u; p.q += 1u; }
  }
  return p;`,
      },
      // A = g as [Co, P]: row co, column = output pixel (n, oh, ow)
      a: {
        fast: "k",
        state: "u32",
        col: `  return x * ${g.u("ohw")};`,
        at: `  return in1[k.q * ${g.u("coohw")} + s + k.r];`,
      },
      // B = cols(x)^T [P, Ci*kh*kw]: row = output pixel, column = tap (c, i, j)
      b: {
        fast: "k",
        state: "Pixel",
        // kernel size and padding from the uniform (plain divisions, once per column, outside the
        // K loop), and the stride (one multiply a K step, by a value the same in every lane): 1x1
        // and 3x3 convs of any stride share the pipeline (~60-130 ms of LLVM each)
        col: `  let c = x / ${g.u("khw")};
  let t = x - c * ${g.u("khw")};
  let i = t / ${g.d("kw", g.kw)};
  let j = t - i * ${g.d("kw", g.kw)};
  let py = i32(i) - ${g.d("pad", g.p)};
  let px = i32(j) - ${g.d("pad", g.p)};
  return Pixel(i32(c * ${g.u("hw")}) + py * i32(${g.u("w")}) + px, py, px);`,
        at: `  let oy = k.oy * ${g.d("stride", g.s)};
  let ox = k.ox * ${g.d("stride", g.s)};
  let ok = u32(i32(oy) + s.y) < ${g.u("h")} && u32(i32(ox) + s.x) < ${g.u("w")};
  return select(0.0, in0[select(0u, u32(s.off + i32(k.q * ${g.u("cihw")} + oy * ${g.u("w")} + ox)), ok)], ok);`,
      },
      store: splits > 1 ? `  write((b * ${g.u("co")} + m) * ${g.u("cikhw")} + n, v);` : `  write(m * ${g.u("cikhw")} + n, v);`,
    },
    limits,
    tiles,
  );
}

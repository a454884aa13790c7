// 2-D convolution (cross-correlation, as PyTorch) and its two gradients as primitives.
//
// Shape legend: N batch, Ci/Co in/out channels, H,W input size, kh,kw kernel size,
// OH = floor((H + 2p - kh) / s) + 1, OW likewise.
//   conv2d             x [N, Ci, H, W]  , w [Co, Ci, kh, kw]  -> y  [N, Co, OH, OW]
//   conv2d_input_grad  g [N, Co, OH, OW], w [Co, Ci, kh, kw]  -> dx [N, Ci, H, W]
//   conv2d_weight_grad x [N, Ci, H, W]  , g [N, Co, OH, OW]   -> dw [Co, Ci, kh, kw]
// The three are bilinear and each one's VJP is built from the other two (JAX's
// _conv_general_dilated_transpose_lhs/_rhs), so second derivatives work too.

import { formatType } from "../graph/shape.js";
import type { ValueType } from "../graph/types.js";
import { allocFloat, check, floats, requireDType, requireRank, type OpDef } from "./def.js";
import type { ConvParams } from "./kinds.js";

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

/** Range of output columns `o` for which o*s + k - p lands inside [0, size). */
function validRange(size: number, outSize: number, k: number, s: number, p: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - k) / s));
  const hi = Math.min(outSize, Math.floor((size - 1 + p - k) / s) + 1);
  return [lo, hi];
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
    wants[1] ? b.op("conv2d_weight_grad", [x, g], { ...params, kernelSize: [w.shape[2], w.shape[3]] }) : null,
  ],
  reference: ([x, w], { stride: s, padding: p }, out, ctx) => {
    const [n, ci, h, wd] = x.shape;
    const [co, , kh, kw] = w.shape;
    const [, , oh, ow] = out.shape;
    const xs = floats(x);
    const ws = floats(w);
    const y = allocFloat(ctx, n * co * oh * ow);
    const acc = new Float64Array(oh * ow); // one output plane, accumulated in f64
    for (let b = 0; b < n; b++) {
      for (let o = 0; o < co; o++) {
        acc.fill(0);
        for (let c = 0; c < ci; c++) {
          const xPlane = (b * ci + c) * h * wd;
          for (let i = 0; i < kh; i++) {
            const [r0, r1] = validRange(h, oh, i, s, p);
            for (let j = 0; j < kw; j++) {
              const wv = ws[((o * ci + c) * kh + i) * kw + j];
              const [c0, c1] = validRange(wd, ow, j, s, p);
              for (let r = r0; r < r1; r++) {
                const xRow = xPlane + (r * s + i - p) * wd + j - p;
                const aRow = r * ow;
                for (let q = c0; q < c1; q++) acc[aRow + q] += wv * xs[xRow + q * s];
              }
            }
          }
        }
        y.set(acc, (b * co + o) * oh * ow);
      }
    }
    return y;
  },
  wgsl: null,
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
    wants[1] ? b.op("conv2d_weight_grad", [u, g], { stride: params.stride, padding: params.padding, kernelSize: [w.shape[2], w.shape[3]] }) : null,
  ],
  reference: ([g, w], { stride: s, padding: p }, out, ctx) => {
    const [n, co, oh, ow] = g.shape;
    const [, ci, kh, kw] = w.shape;
    const [, , h, wd] = out.shape;
    const gs = floats(g);
    const ws = floats(w);
    const dx = allocFloat(ctx, n * ci * h * wd);
    const acc = new Float64Array(h * wd); // one input plane
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < ci; c++) {
        acc.fill(0);
        for (let o = 0; o < co; o++) {
          const gPlane = (b * co + o) * oh * ow;
          for (let i = 0; i < kh; i++) {
            const [r0, r1] = validRange(h, oh, i, s, p);
            for (let j = 0; j < kw; j++) {
              const wv = ws[((o * ci + c) * kh + i) * kw + j];
              const [c0, c1] = validRange(wd, ow, j, s, p);
              for (let r = r0; r < r1; r++) {
                const aRow = (r * s + i - p) * wd + j - p;
                const gRow = gPlane + r * ow;
                for (let q = c0; q < c1; q++) acc[aRow + q * s] += wv * gs[gRow + q];
              }
            }
          }
        }
        dx.set(acc, (b * ci + c) * h * wd);
      }
    }
    return dx;
  },
  wgsl: null,
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
  reference: ([x, g], { stride: s, padding: p }, out, ctx) => {
    const [n, ci, h, wd] = x.shape;
    const [, co, oh, ow] = g.shape;
    const [, , kh, kw] = out.shape;
    const xs = floats(x);
    const gs = floats(g);
    const dw = allocFloat(ctx, co * ci * kh * kw);
    for (let o = 0; o < co; o++) {
      for (let c = 0; c < ci; c++) {
        for (let i = 0; i < kh; i++) {
          const [r0, r1] = validRange(h, oh, i, s, p);
          for (let j = 0; j < kw; j++) {
            const [c0, c1] = validRange(wd, ow, j, s, p);
            let acc = 0;
            for (let b = 0; b < n; b++) {
              const xPlane = (b * ci + c) * h * wd;
              const gPlane = (b * co + o) * oh * ow;
              for (let r = r0; r < r1; r++) {
                const xRow = xPlane + (r * s + i - p) * wd + j - p;
                const gRow = gPlane + r * ow;
                for (let q = c0; q < c1; q++) acc += xs[xRow + q * s] * gs[gRow + q];
              }
            }
            dw[((o * ci + c) * kh + i) * kw + j] = acc;
          }
        }
      }
    }
    return dw;
  },
  wgsl: null,
};

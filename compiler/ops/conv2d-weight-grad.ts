// The convolution's weight gradient as primitives (see conv2d.ts for the family's legend):
//   conv2d_weight_grad          x [N, Ci, H, W], g [N, Co, OH, OW] -> dw [Co, Ci, kh, kw]
//   conv2d_weight_grad_partial  the same summed per group of N/S samples -> [S, Co, Ci, kh, kw]
// and the split-K policy (`weightGradSplits`) that picks between them for a gradient.

import { formatType } from "../ir/shape.js";
import type { ConvParams } from "../ir/kinds.js";
import type { Value } from "../ir/value.js";
import { checkConvOperands, outSpatial } from "./conv-shape.js";
import { weightGradReference } from "./conv-reference.js";
import { conv2dWeightGradKernel, conv2dWeightGradPartialKernel } from "./conv-wgsl.js";
import { check, type OpDef } from "./def.js";
import type { OpEmitter } from "./emitter.js";

export const conv2dWeightGrad: OpDef<"conv2d_weight_grad"> = {
  kind: "conv2d_weight_grad",
  arity: 2,
  shape: ([x, g], p) => {
    const op = "conv2d_weight_grad";
    checkConvOperands(op, p, [x, g], ["input [N, Ci, H, W]", "cotangent [N, Co, OH, OW]"]);
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
export function weightGrad(b: OpEmitter, x: Value, g: Value, conv: ConvParams, kernelSize: readonly [number, number]): Value {
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

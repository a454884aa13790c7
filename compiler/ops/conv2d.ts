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
//
// One file per concern: this one is the forward op and the family's public surface (what
// kernel tests and benchmarks import);
// conv2d-input-grad.ts and conv2d-weight-grad.ts (with the split-K policy) are the gradients,
// conv-shape.ts their shared shape arithmetic, conv-reference.ts the im2col reference kernels
// and conv-wgsl.ts the implicit-GEMM WGSL templates.

import { formatType } from "../ir/shape.js";
import { conv2dReference } from "./conv-reference.js";
import { checkConvOperands, outSpatial } from "./conv-shape.js";
import { conv2dKernel } from "./conv-wgsl.js";
import { weightGrad } from "./conv2d-weight-grad.js";
import { check, type OpDef } from "./def.js";

export { convOutSize } from "./conv-shape.js";
export { conv2dKernel, conv2dInputGradKernel, conv2dWeightGradKernel, conv2dWeightGradPartialKernel } from "./conv-wgsl.js";
export { weightGradSplits, WEIGHT_GRAD_MAX_SPLITS, WEIGHT_GRAD_SPLIT_CHUNK, WEIGHT_GRAD_SPLIT_MIN } from "./conv2d-weight-grad.js";

export const conv2d: OpDef<"conv2d"> = {
  kind: "conv2d",
  arity: 2,
  shape: ([x, w], p) => {
    const op = "conv2d";
    checkConvOperands(op, p, [x, w], ["input [N, Ci, H, W]", "weight [Co, Ci, kh, kw]"]);
    check(op, x.shape[1] === w.shape[1], () => `input channels ${x.shape[1]} (${formatType(x)}) != weight in-channels ${w.shape[1]} (${formatType(w)})`);
    const [oh, ow] = outSpatial(op, x, w.shape[2], w.shape[3], p);
    return { shape: [x.shape[0], w.shape[0], oh, ow], dtype: "f32" };
  },
  vjp: ({ b, g, inputs: [x, w], params, wants }) => [
    wants[0] ? b.op("conv2d_input_grad", [g, w], { ...params, inputSize: [x.shape[2], x.shape[3]] }) : null,
    wants[1] ? weightGrad(b, x, g, params, [w.shape[2], w.shape[3]]) : null,
  ],
  reference: ([x, w], params, out, ctx) => conv2dReference(x, w, params, out, ctx),
  wgsl: (req) => conv2dKernel(req),
};

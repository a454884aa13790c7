// The convolution's input gradient as a primitive (see conv2d.ts for the family's legend):
//   conv2d_input_grad  g [N, Co, OH, OW], w [Co, Ci, kh, kw] -> dx [N, Ci, H, W]
// a strided transposed convolution; its VJP is a conv2d and a weight gradient.

import { formatType } from "../ir/shape.js";
import type { ValueType } from "../ir/types.js";
import { conv2dInputGradReference } from "./conv-reference.js";
import { checkConvOperands, outSpatial } from "./conv-shape.js";
import { conv2dInputGradKernel } from "./conv-wgsl.js";
import { weightGrad } from "./conv2d-weight-grad.js";
import { check, type OpDef } from "./def.js";

export const conv2dInputGrad: OpDef<"conv2d_input_grad"> = {
  kind: "conv2d_input_grad",
  arity: 2,
  shape: ([g, w], p) => {
    const op = "conv2d_input_grad";
    checkConvOperands(op, p, [g, w], ["cotangent [N, Co, OH, OW]", "weight [Co, Ci, kh, kw]"]);
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
  reference: ([g, w], params, out, ctx) => conv2dInputGradReference(g, w, params, out, ctx),
  wgsl: (req) => conv2dInputGradKernel(req),
};

// Softmax over the last axis: x [..., S] -> [..., S], each row summing to 1.
// VJP: dx = y * (g - sum(g * y, last, keepdims)).

import { formatType } from "../graph/shape.js";
import { allocFloat, check, floats, requireDType, type OpDef } from "./def.js";

export const softmax: OpDef<"softmax"> = {
  kind: "softmax",
  arity: 1,
  shape: ([x]) => {
    requireDType("softmax", [x], "f32");
    check("softmax", x.shape.length >= 1, () => `needs rank >= 1, got ${formatType(x)}`);
    return x;
  },
  vjp: ({ b, g, out: y }) => [b.mul(y, b.sub(g, b.sum(b.mul(g, y), -1, true)))],
  reference: ([x], _p, out, ctx) => {
    const src = floats(x);
    const s = out.shape[out.shape.length - 1];
    const dst = allocFloat(ctx, src.length);
    const row = new Float64Array(s);
    for (let o = 0; o < src.length; o += s) {
      let max = -Infinity;
      for (let j = 0; j < s; j++) max = Math.max(max, src[o + j]);
      let total = 0;
      for (let j = 0; j < s; j++) total += row[j] = Math.exp(src[o + j] - max); // shift by max: no overflow
      for (let j = 0; j < s; j++) dst[o + j] = row[j] / total;
    }
    return dst;
  },
  wgsl: null,
};

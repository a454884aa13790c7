// dtype conversion, e.g. integer timesteps or labels to f32. f32 -> i32 truncates toward
// zero, as PyTorch's .int() and WGSL's i32(). Integers carry no gradient, so the VJP is zero.

import { formatType, numel } from "../ir/shape.js";
import { flatKernel } from "../wgsl/wgsl.js";
import { check, type OpDef } from "./def.js";

export const cast: OpDef<"cast"> = {
  kind: "cast",
  arity: 1,
  shape: ([x], { to }) => {
    check("cast", x.dtype !== to, () => `${formatType(x)} is already ${to}`);
    return { shape: x.shape, dtype: to };
  },
  vjp: () => [null],
  reference: ([x], { to }, out, ctx) => {
    const dst = ctx.alloc(out.dtype, x.data.length);
    for (let i = 0; i < dst.length; i++) dst[i] = to === "i32" ? Math.trunc(x.data[i]) : x.data[i];
    return dst;
  },
  wgsl: ({ inputs: [x], out, params: { to }, limits }) => {
    const n = numel(x.shape);
    return flatKernel([x], out, n, `  out[i] = ${to}(in0[i]);`, limits);
  },
};

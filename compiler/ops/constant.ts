// Constants: `fill` repeats one value over a shape (zeros, ones, scalars in the optimizer);
// `constant` holds explicit values (the sinusoidal frequency table). No inputs, no VJP math.

import { formatShape, isValidDim, numel } from "../ir/shape.js";
import { check, type OpDef } from "./def.js";

function checkShape(op: string, shape: readonly number[]): void {
  check(op, shape.every(isValidDim), () => `invalid shape ${formatShape(shape)}`);
}

export const fill: OpDef<"fill"> = {
  kind: "fill",
  arity: 0,
  shape: (_inputs, { shape, dtype, value }) => {
    checkShape("fill", shape);
    check("fill", dtype === "f32" || Number.isInteger(value), () => `i32 fill needs an integer value, got ${value}`);
    return { shape, dtype };
  },
  vjp: () => [],
  reference: (_inputs, { value }, out, ctx) => {
    const dst = ctx.alloc(out.dtype, numel(out.shape));
    dst.fill(value);
    return dst;
  },
  wgsl: null,
};

export const constant: OpDef<"constant"> = {
  kind: "constant",
  arity: 0,
  shape: (_inputs, { shape, dtype, values }) => {
    checkShape("constant", shape);
    check("constant", values.length === numel(shape), () => `${values.length} values do not fill shape ${formatShape(shape)}`);
    check("constant", dtype === "f32" || values.every(Number.isInteger), () => `i32 constant needs integer values`);
    return { shape, dtype };
  },
  vjp: () => [],
  reference: (_inputs, { values }, out, ctx) => {
    const dst = ctx.alloc(out.dtype, values.length);
    dst.set(values);
    return dst;
  },
  wgsl: null,
};

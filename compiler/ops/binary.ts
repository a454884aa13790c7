// Elementwise binary primitives with NumPy broadcasting: a [..] op b [..] -> broadcast
// shape. VJP rules return cotangents at the broadcast shape; the autodiff driver sums
// them back to each input's shape.

import { broadcastShapes, broadcastStrides, formatType, numel } from "../ir/shape.js";
import { allocFloat, check, floats, requireDType, type OpDef, type VjpRule } from "./def.js";
import type { BinaryKind } from "../ir/kinds.js";
import { runPlan, type RunPlan } from "./strided.js";
import { flatDims, flatKernel, offsetsFromIndex } from "../wgsl/wgsl.js";

/** The WGSL expression of each op on `a` and `b`. */
export const binaryWgslExpr: { [K in BinaryKind]: string } = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  max: "select(b, a, a >= b)",
  eq: "select(0.0, 1.0, a == b)",
};

const functions: { [K in BinaryKind]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
};

const vjps: { [K in BinaryKind]: VjpRule<K> } = {
  add: ({ g }) => [g, g],
  sub: ({ b, g, wants }) => [g, wants[1] ? b.neg(g) : null],
  mul: ({ b, g, inputs: [x, y], wants }) => [wants[0] ? b.mul(g, y) : null, wants[1] ? b.mul(g, x) : null],
  // d(x/y)/dy = -x/y^2 = -out/y
  div: ({ b, g, out, inputs: [, y], wants }) => [
    wants[0] ? b.div(g, y) : null,
    wants[1] ? b.neg(b.div(b.mul(g, out), y)) : null,
  ],
  // ties split the cotangent evenly, as torch.maximum does
  max: ({ b, g, inputs: [x, y] }) => {
    const half = b.mul(0.5, b.eq(x, y));
    return [b.mul(g, b.add(b.step(b.sub(x, y)), half)), b.mul(g, b.add(b.step(b.sub(y, x)), half))];
  },
  eq: () => [null, null],
};

type Floats = Float32Array | Float64Array;

/**
 * dst = x op y over a run plan of the output (contiguous). One loop per kind: a shared loop
 * calling `functions[kind]` per element is megamorphic, and V8 then cannot inline it.
 */
function binaryRuns(kind: BinaryKind, dst: Floats, x: Floats, y: Floats, { len, count, inner: [ix, iy], starts: [sx, sy] }: RunPlan): void {
  switch (kind) {
    case "add":
      for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = sx[r], k = sy[r]; j < len; j++, i += ix, k += iy) dst[o++] = x[i] + y[k];
      return;
    case "sub":
      for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = sx[r], k = sy[r]; j < len; j++, i += ix, k += iy) dst[o++] = x[i] - y[k];
      return;
    case "mul":
      for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = sx[r], k = sy[r]; j < len; j++, i += ix, k += iy) dst[o++] = x[i] * y[k];
      return;
    case "div":
      for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = sx[r], k = sy[r]; j < len; j++, i += ix, k += iy) dst[o++] = x[i] / y[k];
      return;
    default: {
      const f = functions[kind];
      for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = sx[r], k = sy[r]; j < len; j++, i += ix, k += iy) dst[o++] = f(x[i], y[k]);
    }
  }
}

function binaryOp<K extends BinaryKind>(kind: K): OpDef<K> {
  return {
    kind,
    arity: 2,
    shape: ([a, b]) => {
      requireDType(kind, [a, b], "f32");
      const shape = broadcastShapes(a.shape, b.shape);
      check(kind, shape !== null, () => `shapes do not broadcast: ${formatType(a)} vs ${formatType(b)}`);
      return { shape, dtype: "f32" };
    },
    vjp: vjps[kind],
    reference: ([a, b], _p, out, ctx) => {
      const dst = allocFloat(ctx, numel(out.shape));
      const plan = runPlan(out.shape, [broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape)]);
      binaryRuns(kind, dst, floats(a), floats(b), plan);
      return dst;
    },
    wgsl: ({ inputs: [a, b], out, limits }) => {
      const n = numel(out.shape);
      const strides = [broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape)];
      const dims = flatDims(n);
      return flatKernel([a, b], out, n, `${offsetsFromIndex(out.shape, strides, ["ia", "ib"], dims)}
  let a = in0[ia];
  let b = in1[ib];
  out[i] = ${binaryWgslExpr[kind]};`, limits, { dims });
    },
  };
}

export const binaryOps: { [K in BinaryKind]: OpDef<K> } = {
  add: binaryOp("add"),
  sub: binaryOp("sub"),
  mul: binaryOp("mul"),
  div: binaryOp("div"),
  max: binaryOp("max"),
  eq: binaryOp("eq"),
};

// Reductions over a set of axes, with or without keeping them as size-1 dims:
//   x [d0, d1, d2], axes [1] -> [d0, d2] (keepdims: [d0, 1, d2]).
// Params hold canonical axes (non-negative, ascending, unique); the builder normalizes.

import type { GraphBuilder } from "../graph/builder.js";
import { formatShape, formatType, numel, stridesOf } from "../graph/shape.js";
import type { Shape, ValueType } from "../graph/types.js";
import type { Value } from "../graph/value.js";
import { allocFloat, check, floats, requireDType, type OpDef, type VjpRule } from "./def.js";
import type { ReduceKind, ReduceParams } from "./kinds.js";
import { stridedOffsets } from "./strided.js";

export function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceShape(op: ReduceKind, [x]: readonly ValueType[], { axes, keepdims }: ReduceParams): ValueType {
  requireDType(op, [x], "f32");
  const rank = x.shape.length;
  axes.forEach((a, i) => {
    check(op, Number.isInteger(a) && a >= 0 && a < rank, () => `axis ${a} is out of range for ${formatType(x)}`);
    check(op, i === 0 || a > axes[i - 1], () => `axes must be ascending and unique, got ${formatShape(axes)}`);
  });
  const shape = keepdims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, dtype: "f32" };
}

/** The cotangent of a reduction, spread back over the reduced axes. */
function spread(b: GraphBuilder, g: Value, x: Value, axes: readonly number[]): Value {
  return b.broadcastTo(b.reshape(g, keptShape(x.shape, axes)), x.shape);
}

const vjps: { [K in ReduceKind]: VjpRule<K> } = {
  reduce_sum: ({ b, g, inputs: [x], params }) => [spread(b, g, x, params.axes)],
  reduce_mean: ({ b, g, inputs: [x], params }) => {
    const count = params.axes.reduce((n, a) => n * x.shape[a], 1);
    return [b.div(spread(b, g, x, params.axes), count)];
  },
  // the cotangent goes to the maxima, split evenly between ties
  reduce_max: ({ b, g, out, inputs: [x], params }) => {
    const mask = b.eq(x, spread(b, out, x, params.axes));
    const ties = b.sum(mask, params.axes, true);
    return [b.mul(spread(b, g, x, params.axes), b.div(mask, ties))];
  },
};

const combine: { [K in ReduceKind]: { init: number; step: (acc: number, v: number) => number } } = {
  reduce_sum: { init: 0, step: (acc, v) => acc + v },
  reduce_mean: { init: 0, step: (acc, v) => acc + v },
  reduce_max: { init: -Infinity, step: (acc, v) => (v > acc ? v : acc) },
};

function reduceOp<K extends ReduceKind>(kind: K): OpDef<K> {
  const { init, step } = combine[kind];
  return {
    kind,
    arity: 1,
    shape: (inputs, params) => reduceShape(kind, inputs, params),
    vjp: vjps[kind],
    reference: ([x], { axes }, out, ctx) => {
      // each input element's destination: out strides with 0 on the reduced axes
      const kept = keptShape(x.shape, axes);
      const strides = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
      const dst = stridedOffsets(x.shape, strides);
      const acc = new Float64Array(numel(out.shape)).fill(init);
      const src = floats(x);
      for (let i = 0; i < src.length; i++) acc[dst[i]] = step(acc[dst[i]], src[i]);
      if (kind === "reduce_mean") {
        const count = src.length / Math.max(acc.length, 1);
        for (let i = 0; i < acc.length; i++) acc[i] /= count;
      }
      const y = allocFloat(ctx, acc.length);
      y.set(acc);
      return y;
    },
    wgsl: null,
  };
}

export const reduceOps: { [K in ReduceKind]: OpDef<K> } = {
  reduce_sum: reduceOp("reduce_sum"),
  reduce_mean: reduceOp("reduce_mean"),
  reduce_max: reduceOp("reduce_max"),
};

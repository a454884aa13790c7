// Runs one primitive on the reference interpreter: the smallest way to test a kernel.

import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { OpKind, OpParams } from "../../compiler/ir/kinds.js";
import { runGraph, type Precision } from "../../runtime/reference/interpreter.js";

export function runOp<K extends OpKind>(kind: K, inputs: readonly Tensor[], params: OpParams<K>, precision: Precision = "f64"): Tensor {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(`x${i}`, t.shape, t.data instanceof Int32Array ? "i32" : "f32"));
  b.output("y", b.op(kind, xs, params));
  const feeds = Object.fromEntries(inputs.map((t, i) => [`x${i}`, t]));
  return runGraph(b.build(), feeds, { precision }).outputs.y;
}

export const t = (shape: readonly number[], values: readonly number[]): Tensor => ({ shape, data: Float64Array.from(values) });
export const ti = (shape: readonly number[], values: readonly number[]): Tensor => ({ shape, data: Int32Array.from(values) });

/** Deterministic non-trivial values: v_i = sin(1.3 i + seed). */
export function wave(shape: readonly number[], seed = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + seed)) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

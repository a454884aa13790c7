// What a gradient rule may emit: the narrow slice of graph building the VJP rules use. The
// graph layer's GraphBuilder implements it; declaring it here keeps ops below the graph layer
// (ops never import compiler/graph, and the builder, which needs the registry, can).

import type { OpKind, OpParams } from "../ir/kinds.js";
import type { Shape } from "../ir/types.js";
import type { Value } from "../ir/value.js";

/** A value, or a number that becomes an f32 scalar constant. */
export type Operand = Value | number;

export interface OpEmitter {
  /** Adds one primitive; its shape rule checks the inputs and gives the output type. */
  op<K extends OpKind>(kind: K, inputs: readonly Value[], params: OpParams<K>): Value;

  neg(x: Value): Value;
  exp(x: Value): Value;
  sin(x: Value): Value;
  cos(x: Value): Value;
  square(x: Value): Value;
  /** Heaviside: 1 where x > 0, else 0. */
  step(x: Value): Value;

  add(a: Operand, b: Operand): Value;
  sub(a: Operand, b: Operand): Value;
  mul(a: Operand, b: Operand): Value;
  div(a: Operand, b: Operand): Value;
  /** 1 where a == b, else 0. */
  eq(a: Operand, b: Operand): Value;

  conv2d(x: Value, w: Value, opts?: { stride?: number; padding?: number }): Value;
  matmul(a: Value, b: Value): Value;
  /** Sum over `axes` (all when omitted; negative axes count from the end). */
  sum(x: Value, axes?: number | readonly number[], keepdims?: boolean): Value;

  reshape(x: Value, shape: readonly number[]): Value;
  transpose(x: Value, perm: readonly number[]): Value;
  transposeLast2(x: Value): Value;
  broadcastTo(x: Value, shape: Shape): Value;
  concat(xs: readonly Value[], axis: number): Value;
  slice(x: Value, starts: readonly number[], ends: readonly number[]): Value;
  sliceAxis(x: Value, axis: number, start: number, end: number): Value;
  pad(x: Value, before: readonly number[], after: readonly number[]): Value;
  gather(table: Value, idx: Value): Value;
  scatterAdd(g: Value, idx: Value, rows: number): Value;
}

// What one primitive is: its shape rule, its gradient rule, its reference kernel and its
// WGSL template, side by side (JAX's convolution.py, jax-js's rule tables).

import { formatType } from "../ir/shape.js";
import type { Tensor, TensorData } from "../ir/tensor.js";
import type { DType, ValueType } from "../ir/types.js";
import type { Value } from "../ir/value.js";
import type { OpKind, OpParams } from "../ir/kinds.js";
import type { KernelTemplate } from "../wgsl/kernel.js";
import type { OpEmitter } from "./emitter.js";

/** A shape or dtype rule was broken: names the op, the constraint and the values. */
export class ShapeError extends Error {
  constructor(
    readonly op: string,
    readonly detail: string,
  ) {
    super(`${op}: ${detail}`);
    this.name = "ShapeError";
  }
}

export type ShapeRule<K extends OpKind> = (inputs: readonly ValueType[], params: OpParams<K>) => ValueType;

export interface VjpContext<K extends OpKind> {
  /** Where the gradient graph is emitted (a GraphBuilder); `inputs`, `out`, `g` belong to it. */
  readonly b: OpEmitter;
  readonly inputs: readonly Value[];
  readonly out: Value;
  /** Cotangent of `out`, with `out`'s shape. */
  readonly g: Value;
  readonly params: OpParams<K>;
  /** Which inputs need a gradient; a rule may skip building the others. */
  readonly wants: readonly boolean[];
}

/**
 * Returns one cotangent per input: null means zero (or not wanted). A cotangent may have
 * the op's broadcast output shape; the autodiff driver sums it back to the input's shape,
 * so each rule is only the math (tinygrad's compute_gradient).
 */
export type VjpRule<K extends OpKind> = (ctx: VjpContext<K>) => readonly (Value | null)[];

/** An op with no gradient rule, and why none is needed. */
export interface NoVjp {
  readonly none: string;
}

export function noVjp(reason: string): NoVjp {
  return { none: reason };
}

export interface RefContext {
  /** Float storage of this run: float32 (the device's) or float64 (gradient checks). */
  readonly precision: "f32" | "f64";
  alloc(dtype: DType, size: number): TensorData;
}

/** Computes the op's output data on the host, given its inputs and inferred output type. */
export type ReferenceImpl<K extends OpKind> = (
  inputs: readonly Tensor[],
  params: OpParams<K>,
  out: ValueType,
  ctx: RefContext,
) => TensorData;

/**
 * The op's WGSL kernel for concrete input and output types (compiler/wgsl/kernel.ts states
 * the binding convention). `null` only for ops that never reach a device: reshape is an alias
 * of its input's memory, and fill/constant are computed once on the host.
 */
export type WgslTemplate<K extends OpKind> = KernelTemplate<K>;

export interface OpDef<K extends OpKind> {
  readonly kind: K;
  /** Number of inputs, or "variadic" (at least one). */
  readonly arity: number | "variadic";
  readonly shape: ShapeRule<K>;
  readonly vjp: VjpRule<K> | NoVjp;
  readonly reference: ReferenceImpl<K>;
  readonly wgsl: WgslTemplate<K> | null;
}

export function hasVjp<K extends OpKind>(def: OpDef<K>): def is OpDef<K> & { vjp: VjpRule<K> } {
  return typeof def.vjp === "function";
}

/** One `throw` per check keeps shape rules readable: `check(op, cond, () => message)`. */
export function check(op: string, ok: boolean, detail: () => string): asserts ok {
  if (!ok) throw new ShapeError(op, detail());
}

export function requireDType(op: string, inputs: readonly ValueType[], dtype: DType): void {
  inputs.forEach((t, i) =>
    check(op, t.dtype === dtype, () => `input ${i} must be ${dtype}, got ${formatType(t)}`),
  );
}

export function requireRank(op: string, name: string, t: ValueType, rank: number): void {
  check(op, t.shape.length === rank, () => `${name} must have rank ${rank}, got ${formatType(t)}`);
}

export function requireShape(op: string, name: string, t: ValueType, want: readonly number[]): void {
  check(op, t.shape.length === want.length && t.shape.every((x, i) => x === want[i]), () => `${name} must be [${want.join(", ")}], got ${formatType(t)}`);
}

/** Float view of a tensor whose dtype the shape rule has already checked. */
export function floats(t: Tensor): Float32Array | Float64Array {
  if (t.data instanceof Int32Array) throw new Error("internal: expected float data, got Int32Array");
  return t.data;
}

export function ints(t: Tensor): Int32Array {
  if (!(t.data instanceof Int32Array)) throw new Error("internal: expected Int32Array data");
  return t.data;
}

export function allocFloat(ctx: RefContext, size: number): Float32Array | Float64Array {
  return ctx.alloc("f32", size) as Float32Array | Float64Array;
}

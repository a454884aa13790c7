// What a built-in layer is to the checker: its parameters (names, types, defaults: unknown
// keywords are errors), its shape rule with user-facing messages, the parameters and buffers it
// creates (named as PyTorch names them) and its forward FLOPs per image. Shapes are per sample:
// images [C, H, W], tokens [S, C], vectors [C], scalars []. The helpers below are shared by the
// layer families of this folder.
import type { Span } from "../../diagnostics/source.js";
import type { DiagnosticCode } from "../../diagnostics/codes.js";
import type { DiagnosticInit } from "../../diagnostics/diagnostic.js";
import type { LayerAttrs, LayerKind } from "../layer-kinds.js";
import type { DTypeName, ParamInit } from "../model-graph.js";
import type { VType } from "../types.js";
import { describeValue, shapeText, tensorKind, type TensorValue, type Value } from "../values.js";

export interface LocalParam {
  local: string;
  shape: number[];
  kind?: "param" | "buffer";
  dtype?: DTypeName;
  init: ParamInit;
}

export interface NodeOptions {
  dtype?: DTypeName;
  flops?: number;
  params?: LocalParam[];
}

/** What a built-in sees of the elaborator. */
export interface LayerCtx {
  readonly span: Span;
  readonly path: string;
  /** Whether the call was named with `as NAME` (or sits in a `seq`). */
  readonly named: boolean;
  argSpan(name: string): Span;
  error(code: DiagnosticCode, message: string, init?: DiagnosticInit): Value;
  /** A node of kind K, its attributes typed by the kind. */
  node<K extends LayerKind>(op: K, inputs: TensorValue[], attrs: LayerAttrs[K], shape: number[], opts?: NodeOptions): TensorValue;
  /** A learned tensor whose full name is the path itself (`param([16, 64]) as scale`). */
  paramNode(shape: number[], init: ParamInit): TensorValue;
}

export interface BuiltinParam {
  name: string;
  type: VType;
  /** Absent: required. */
  default?: Value;
}

export interface Args {
  [name: string]: Value;
}

export interface Builtin {
  /** Layers create modules: they take a path, can be named with `as`, and can be items of a `seq`. */
  layer: boolean;
  params: BuiltinParam[];
  /** `concat(a, b, ...)`: any number of positional tensors, passed as `rest`. */
  variadic?: boolean;
  /** `rearrange(x, "...", h = 4)`: extra keywords, passed as `kwargs`. */
  extraKwargs?: boolean;
  doc: string;
  apply(ctx: LayerCtx, a: Args, rest: Value[], kwargs: Map<string, Value>): Value;
}

export const num = (v: Value): number => (v.t === "int" || v.t === "float" ? v.v : NaN);
export const tensor = (v: Value) => v as TensorValue;
export const fanIn = (n: number): ParamInit => ({ kind: "uniform_fan_in", fanIn: n });

/** Channels of an image, features of tokens or of a vector. */
export function channelsOf(shape: readonly number[]): number {
  return shape.length === 3 ? shape[0] : shape[shape.length - 1];
}

/** A size argument (channels, features, groups, classes, a factor): a positive int, or an error
 *  at the argument and undefined. */
export function positive(ctx: LayerCtx, a: Args, name: string, what: string): number | undefined {
  const n = num(a[name]);
  if (n >= 1) return n;
  ctx.error("E0201", `${what} must be at least 1, found ${n}`, { span: ctx.argSpan(name), label: "a size must be positive" });
  return undefined;
}

export function requireKind(ctx: LayerCtx, x: TensorValue, kinds: number[], what: string, arg = "x"): boolean {
  if (kinds.includes(x.shape.length)) return true;
  const want = kinds.map((r) => ["scalar", "vector", "tokens [S, C]", "image [C, H, W]"][r]).join(" or ");
  ctx.error("E0306", `${what} works on ${want}, found ${tensorKind(x.shape)} ${shapeText(x.shape)}`, {
    span: ctx.argSpan(arg),
    label: `this is ${describeValue(x)}`,
    expected: want,
    found: `${tensorKind(x.shape)} ${shapeText(x.shape)}`,
  });
  return false;
}

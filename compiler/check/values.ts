// Values of the elaboration: the checker runs the spec with concrete parameters. Tensors carry
// their per-sample shape and the layer node that makes them; `poison` stands for a value whose
// error was already reported, so one mistake does not cascade into many messages.
import type { Span } from "../diagnostics/source.js";
import type { DTypeName } from "./model-graph.js";

export type Value =
  | { t: "int"; v: number }
  | { t: "float"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "none" }
  /** `origin`: where the list was written (a literal, a `--set`), to point at when it is the problem. */
  | { t: "list"; items: Value[]; origin?: Span }
  | { t: "tensor"; node: number; shape: number[]; dtype: DTypeName; savedAt?: Span }
  | { t: "poison" };

export type TensorValue = Extract<Value, { t: "tensor" }>;

export const POISON: Value = { t: "poison" };
export const NONE: Value = { t: "none" };
export const int = (v: number): Value => ({ t: "int", v });
export const float = (v: number): Value => ({ t: "float", v });
export const bool = (v: boolean): Value => ({ t: "bool", v });
export const str = (v: string): Value => ({ t: "str", v });
export const list = (items: Value[], origin?: Span): Value => (origin ? { t: "list", items, origin } : { t: "list", items });

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function tensorKind(shape: readonly number[]): string {
  switch (shape.length) {
    case 0:
      return "scalar";
    case 1:
      return "vector";
    case 2:
      return "tokens";
    case 3:
      return "image";
    default:
      return `rank-${shape.length} tensor`;
  }
}

/** How a value reads in a message: `int 3`, `image [32, 16, 16]`, `list [1, 2]`. */
export function describeValue(v: Value): string {
  switch (v.t) {
    case "int":
    case "float":
      return `${v.t} ${v.v}`;
    case "bool":
      return `bool ${v.v}`;
    case "str":
      return `string "${v.v}"`;
    case "none":
      return "none";
    case "list":
      return `list ${valueText(v)}`;
    case "tensor":
      return `${tensorKind(v.shape)} ${shapeText(v.shape)}`;
    case "poison":
      return "an invalid value";
  }
}

export function valueText(v: Value): string {
  switch (v.t) {
    case "int":
    case "float":
      return String(v.v);
    case "bool":
      return String(v.v);
    case "str":
      return `"${v.v}"`;
    case "none":
      return "none";
    case "list":
      return `[${v.items.map(valueText).join(", ")}]`;
    case "tensor":
      return `${tensorKind(v.shape)}${shapeText(v.shape)}`;
    case "poison":
      return "<invalid>";
  }
}

/** Plain JSON form of a non-tensor value, for configs and summaries. */
export function valueToJson(v: Value): unknown {
  switch (v.t) {
    case "int":
    case "float":
    case "bool":
    case "str":
      return v.v;
    case "none":
      return null;
    case "list":
      return v.items.map(valueToJson);
    default:
      return valueText(v);
  }
}

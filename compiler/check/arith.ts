// Arithmetic and equality on plain values (numbers, strings, bools, lists). Ints stay exact: an int
// result beyond 2^53 - 1 would silently lose digits, so it is an error, as is division by zero.
import type { BinaryOp } from "../front/ast.js";
import { bool, float, int, type Value } from "./values.js";

export type NumberResult = { value: Value } | { error: "division by zero" | "modulo by zero" | "int overflow" };

/** `a op b` for numbers; both ints give an int where the result is whole (`/` always gives a float). */
export function numberOp(op: BinaryOp, l: Extract<Value, { t: "int" | "float" }>, r: Extract<Value, { t: "int" | "float" }>): NumberResult {
  const bothInt = l.t === "int" && r.t === "int";
  const a = l.v;
  const b = r.v;
  const num = (v: number): NumberResult => {
    if (!bothInt || !Number.isInteger(v)) return { value: float(v) };
    return Number.isSafeInteger(v) ? { value: int(v) } : { error: "int overflow" };
  };
  switch (op) {
    case "+":
      return num(a + b);
    case "-":
      return num(a - b);
    case "*":
      return num(a * b);
    case "/":
      return b === 0 ? { error: "division by zero" } : { value: float(a / b) };
    case "//":
      return b === 0 ? { error: "division by zero" } : num(Math.floor(a / b));
    case "%":
      return b === 0 ? { error: "modulo by zero" } : num(((a % b) + b) % b);
    case "**":
      return bothInt && b >= 0 ? num(a ** b) : { value: float(a ** b) };
    case "<":
      return { value: bool(a < b) };
    case "<=":
      return { value: bool(a <= b) };
    case ">":
      return { value: bool(a > b) };
    case ">=":
      return { value: bool(a >= b) };
    default:
      throw new Error(`numberOp: \`${op}\` is not an arithmetic operator`);
  }
}

/** `a == b`; undefined when the two cannot be compared (a tensor, a number with a list). */
export function valuesEqual(a: Value, b: Value): boolean | undefined {
  if (a.t === "none" || b.t === "none") return a.t === b.t;
  if ((a.t === "int" || a.t === "float") && (b.t === "int" || b.t === "float")) return a.v === b.v;
  if (a.t === "str" && b.t === "str") return a.v === b.v;
  if (a.t === "bool" && b.t === "bool") return a.v === b.v;
  if (a.t === "list" && b.t === "list") return a.items.length === b.items.length && a.items.every((x, i) => valuesEqual(x, b.items[i]) === true);
  if (a.t === "str" || b.t === "str" || a.t === "bool" || b.t === "bool") return false;
  return undefined;
}

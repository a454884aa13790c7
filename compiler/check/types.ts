// Types of block and model parameters: declared in the spec (`nfs: [int]`, `mode: "a" | "b"`),
// inferred from a default when not declared, and checked on every call and every `--set`.
import type { TypeExpr } from "../front/ast.js";
import { describeValue, type Value } from "./values.js";

export type VType =
  | { k: "int" }
  | { k: "float" }
  | { k: "bool" }
  | { k: "str" }
  | { k: "tensor" }
  | { k: "any" }
  | { k: "list"; elem: VType }
  | { k: "enum"; values: string[] };

export const T = {
  int: { k: "int" } as VType,
  float: { k: "float" } as VType,
  bool: { k: "bool" } as VType,
  str: { k: "str" } as VType,
  tensor: { k: "tensor" } as VType,
  any: { k: "any" } as VType,
  ints: { k: "list", elem: { k: "int" } } as VType,
  enumOf: (...values: string[]): VType => ({ k: "enum", values }),
};

export function typeFromAst(t: TypeExpr): VType {
  switch (t.kind) {
    case "named":
      return ({ int: T.int, float: T.float, bool: T.bool, str: T.str, tensor: T.tensor } as Record<string, VType>)[t.name] ?? T.any;
    case "list":
      return { k: "list", elem: typeFromAst(t.elem) };
    case "enum":
      return { k: "enum", values: t.values };
  }
}

export function isKnownTypeName(name: string): boolean {
  return ["int", "float", "bool", "str", "tensor"].includes(name);
}

/** The type a default value implies when a parameter has no annotation. */
export function typeOfValue(v: Value): VType {
  switch (v.t) {
    case "int":
      return T.int;
    case "float":
      return T.float;
    case "bool":
      return T.bool;
    case "str":
      return T.str;
    case "tensor":
      return T.tensor;
    case "list":
      return v.items.length ? { k: "list", elem: typeOfValue(v.items[0]) } : { k: "list", elem: T.any };
    default:
      return T.any;
  }
}

export function typeText(t: VType): string {
  switch (t.k) {
    case "list":
      return `[${typeText(t.elem)}]`;
    case "enum":
      return t.values.map((v) => `"${v}"`).join(" | ");
    default:
      return t.k;
  }
}

/** Checks (and widens int -> float) a value against a type; returns the value or a reason. */
export function conform(v: Value, t: VType): { ok: true; value: Value } | { ok: false; reason: string } {
  if (v.t === "poison" || t.k === "any") return { ok: true, value: v };
  switch (t.k) {
    case "int":
      if (v.t === "int") return { ok: true, value: v };
      break;
    case "float":
      if (v.t === "float") return { ok: true, value: v };
      if (v.t === "int") return { ok: true, value: { t: "float", v: v.v } };
      break;
    case "bool":
    case "str":
    case "tensor":
      if (v.t === t.k) return { ok: true, value: v };
      break;
    case "enum":
      if (v.t === "str" && t.values.includes(v.v)) return { ok: true, value: v };
      if (v.t === "str") return { ok: false, reason: `"${v.v}" is not one of ${typeText(t)}` };
      break;
    case "list":
      if (v.t === "list") {
        const items: Value[] = [];
        for (const [i, item] of v.items.entries()) {
          const r = conform(item, t.elem);
          if (!r.ok) return { ok: false, reason: `item ${i}: ${r.reason}` };
          items.push(r.value);
        }
        return { ok: true, value: { ...v, items } };
      }
      break;
  }
  return { ok: false, reason: `expected ${typeText(t)}, found ${describeValue(v)}` };
}

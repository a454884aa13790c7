// The functions of the language (len, range, min, channels, ...).
import type { DiagnosticCode } from "../diagnostics/codes.js";
import { channelsOf, num } from "./layers/signature.js";
import { MAX_RANGE, thousands } from "./limits.js";
import { describeValue, int, list, type Value } from "./values.js";

/** Plain functions over numbers, lists and shapes; they create no layers. `fail` reports at the
 *  call (E0201 unless another code is given) and returns poison. */
export interface BuiltinFunction {
  doc: string;
  minArgs: number;
  maxArgs: number;
  apply(args: Value[], fail: (message: string, code?: DiagnosticCode) => Value): Value;
}

const shapeFn = (doc: string, pick: (shape: number[]) => number | undefined): BuiltinFunction => ({
  doc,
  minArgs: 1,
  maxArgs: 1,
  apply: ([x], fail) => {
    if (x.t !== "tensor") return fail(`expected a tensor, found ${describeValue(x)}`);
    const v = pick(x.shape);
    return v === undefined ? fail(`${describeValue(x)} has no such axis`) : int(v);
  },
});

const numbers = (args: Value[]): number[] | undefined => {
  const flat = args.length === 1 && args[0].t === "list" ? args[0].items : args;
  return flat.every((v) => v.t === "int" || v.t === "float") ? flat.map(num) : undefined;
};

/** min or max: an int when the result is whole and no argument is a float. */
const extremum = (name: string, doc: string, pick: (...ns: number[]) => number): BuiltinFunction => ({
  doc,
  minArgs: 1,
  maxArgs: 64,
  apply: (args, fail) => {
    const ns = numbers(args);
    if (!ns || ns.length === 0) return fail(`${name} takes numbers`);
    const m = pick(...ns);
    return Number.isInteger(m) && args.every((v) => v.t !== "float") ? int(m) : { t: "float", v: m };
  },
});

export const FUNCTIONS: Record<string, BuiltinFunction> = {
  len: {
    doc: "Length of a list.",
    minArgs: 1,
    maxArgs: 1,
    apply: ([x], fail) => (x.t === "list" ? int(x.items.length) : fail(`len takes a list, found ${describeValue(x)}`)),
  },
  range: {
    doc: "range(n) or range(start, end): the ints start .. end-1.",
    minArgs: 1,
    maxArgs: 2,
    apply: (args, fail) => {
      if (!args.every((v) => v.t === "int")) return fail("range takes ints");
      const [a, b] = args.length === 1 ? [0, num(args[0])] : [num(args[0]), num(args[1])];
      if (b - a > MAX_RANGE) return fail(`${thousands(b - a)} items are more than the limit of ${thousands(MAX_RANGE)}`, "E0604");
      return list(Array.from({ length: Math.max(0, b - a) }, (_, i) => int(a + i)));
    },
  },
  reversed: {
    doc: "The list in reverse order.",
    minArgs: 1,
    maxArgs: 1,
    apply: ([x], fail) => (x.t === "list" ? list([...x.items].reverse(), x.origin) : fail(`reversed takes a list, found ${describeValue(x)}`)),
  },
  min: extremum("min", "Smallest of numbers (or of one list).", Math.min),
  max: extremum("max", "Largest of numbers (or of one list).", Math.max),
  channels: shapeFn("Channels of an image, features of tokens or a vector.", (s) => (s.length ? channelsOf(s) : undefined)),
  num_tokens: shapeFn("Number of tokens S of tokens [S, C].", (s) => (s.length === 2 ? s[0] : undefined)),
  height: shapeFn("Height of an image.", (s) => (s.length === 3 ? s[1] : undefined)),
  width: shapeFn("Width of an image.", (s) => (s.length === 3 ? s[2] : undefined)),
};

/** Own keys only: `constructor` is not a function of the language. */
export const functionNamed = (name: string): BuiltinFunction | undefined => (Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined);

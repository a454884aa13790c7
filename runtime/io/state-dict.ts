// A model's state_dict as safetensors, both ways, with PyTorch's rules: every parameter and buffer
// by its dotted name; floats in F32 (F64, F16 and BF16 read too, widened to float32); BatchNorm's
// `num_batches_tracked` as I64 (I32 or an integer-valued float read too), and, as in PyTorch's
// load_state_dict, optional (a missing counter starts at 0). A mismatch lists every missing,
// unexpected and mis-shaped tensor in one message, with a did-you-mean where a name is close.
import type { DTypeName, ModelGraph } from "../../compiler/check/model-graph.js";
import { numel } from "../../compiler/check/model-graph.js";
import { nearNames } from "../../compiler/check/suggest.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { SafetensorsDType, StoredTensor, TensorToWrite } from "./safetensors.js";

/** What a tensor must be: its shape, and whether it is a float or a counter (i64). */
export interface ExpectedTensor {
  readonly shape: readonly number[];
  readonly dtype: DTypeName;
}

/** A plain weights file that does not fit the spec; `problems` lists each difference. */
export class StateDictError extends UserError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join("\n")}` : message);
  }
}

/** A BatchNorm step counter: PyTorch accepts a state_dict without it. */
export const isCounter = (name: string): boolean => name === "num_batches_tracked" || name.endsWith(".num_batches_tracked");

const FLOATS: readonly SafetensorsDType[] = ["F32", "F64", "F16", "BF16"];
const shapeText = (s: readonly number[]): string => `[${s.join(", ")}]`;

/** The model's state_dict: each parameter and buffer with its shape and dtype. */
export function stateDictOf(model: ModelGraph): Map<string, ExpectedTensor> {
  return new Map(model.parameters.map((p) => [p.name, { shape: p.shape, dtype: p.dtype }]));
}

export interface StateDictCheck {
  /** Where the tensors come from, for the message: "checkpoint runs/x/checkpoint.safetensors". */
  readonly what: string;
  /** What the tensors are matched against, for the message (default "the spec"). */
  readonly against?: string;
  /** What holds the tensors, in a shape problem's line (default "file"). */
  readonly noun?: string;
  /** Tolerate missing counters (PyTorch's load_state_dict does). */
  readonly optionalCounters?: boolean;
  /** Lines shown at most (the counts in the heading are always complete). */
  readonly limit?: number;
}

/** Every difference between `tensors` and `expected`, as lines for people, with the heading. */
export function stateDictProblems(tensors: ReadonlyMap<string, StoredTensor>, expected: ReadonlyMap<string, ExpectedTensor>, o: StateDictCheck): { heading: string; problems: string[] } | undefined {
  const against = o.against ?? "the spec";
  const mis: string[] = [];
  const missing: string[] = [];
  for (const [name, e] of expected) {
    const t = tensors.get(name);
    if (!t) {
      if (!(o.optionalCounters && e.dtype === "i64" && isCounter(name))) missing.push(name);
      continue;
    }
    const problem = tensorProblem(name, t, e, o.noun ?? "file");
    if (problem) mis.push(problem);
  }
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  if (mis.length + missing.length + unexpected.length === 0) return undefined;

  const lines = [...mis];
  const hints = unexpectedHints(unexpected, missing, expected);
  for (const name of missing) lines.push(`missing tensor \`${name}\` of shape ${shapeText(expected.get(name)!.shape)}`);
  for (const name of unexpected) lines.push(`unexpected tensor \`${name}\` (not in ${against})${hints.get(name) ?? ""}`);
  const prefix = strippablePrefix(unexpected, expected);
  if (prefix) lines.unshift(`every unexpected name starts with \`${prefix}\`; without it they are the spec's names (a state_dict of a wrapped model, such as DistributedDataParallel's \`module.\`? save the inner model's state_dict)`);
  const limit = o.limit ?? 60;
  const shown = lines.slice(0, limit);
  if (lines.length > limit) shown.push(`... and ${lines.length - limit} more`);
  const counts = [mis.length && `${mis.length} mis-shaped`, missing.length && `${missing.length} missing`, unexpected.length && `${unexpected.length} unexpected`].filter(Boolean).join(", ");
  return { heading: `${o.what} does not match ${against} (${counts}):`, problems: shown };
}

/** Throws a StateDictError listing every difference (see stateDictProblems). */
export function checkStateDict(tensors: ReadonlyMap<string, StoredTensor>, expected: ReadonlyMap<string, ExpectedTensor>, o: StateDictCheck): void {
  const p = stateDictProblems(tensors, expected, o);
  if (p) throw new StateDictError(p.heading, p.problems);
}

function tensorProblem(name: string, t: StoredTensor, e: ExpectedTensor, noun: string): string | undefined {
  if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
    return `\`${name}\` has shape ${shapeText(t.shape)} in the ${noun}; the spec needs ${shapeText(e.shape)}`;
  }
  if (t.data.length !== numel(e.shape)) return `\`${name}\` has ${t.data.length} values; expected ${numel(e.shape)}`;
  if (e.dtype === "f32") return FLOATS.includes(t.dtype) ? undefined : `\`${name}\` holds ${t.dtype} values; expected floats (F32, F16, BF16 or F64)`;
  // A counter: integers, or a float holding an integer (older unetc checkpoints wrote F32).
  if (!FLOATS.includes(t.dtype)) return undefined;
  return Array.from(t.data).every((v) => Number.isInteger(v)) ? undefined : `\`${name}\` is a step counter but holds non-integer ${t.dtype} values`;
}

/** For each unexpected name, "; did you mean `x`?" naming the nearest missing (or else any) name of the spec. */
function unexpectedHints(unexpected: readonly string[], missing: readonly string[], expected: ReadonlyMap<string, ExpectedTensor>): Map<string, string> {
  const hints = new Map<string, string>();
  // Edit distances cost |a| * |b| each: a file of an unrelated model is not worth seconds of hints.
  const pool = missing.length ? missing : [...expected.keys()];
  if (unexpected.length * pool.length > 200_000) return hints;
  for (const name of unexpected) {
    const [near] = nearNames(name, pool, 1);
    if (near) hints.set(name, `; did you mean \`${near}\`${missing.includes(near) ? " (missing)" : ""}?`);
  }
  return hints;
}

/** A first dotted component (`module.`) that every unexpected name has and whose removal makes them the spec's names. */
function strippablePrefix(unexpected: readonly string[], expected: ReadonlyMap<string, ExpectedTensor>): string | undefined {
  if (unexpected.length === 0) return undefined;
  const first = unexpected[0].split(".")[0] + ".";
  if (first === "." || !unexpected.every((n) => n.startsWith(first))) return undefined;
  const matched = unexpected.filter((n) => expected.has(n.slice(first.length))).length;
  return matched >= Math.max(1, unexpected.length / 2) ? first : undefined;
}

/** Float32 tensors for a runner, in the model's order; a missing counter (checked optional) is 0. */
export function stateDictTensors(model: ModelGraph, tensors: ReadonlyMap<string, StoredTensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const p of model.parameters) {
    const t = tensors.get(p.name);
    const data = t ? (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)) : new Float32Array(numel(p.shape));
    out.set(p.name, { shape: [...p.shape], data });
  }
  return out;
}

/** The model's tensors as PyTorch writes them: floats F32, counters I64 (rounded from the runner's floats). */
export function toStateDict(model: ModelGraph, weights: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const p of model.parameters) {
    const t = weights.get(p.name);
    if (!t) throw new StateDictError(`internal: no tensor \`${p.name}\` to write`);
    out.set(p.name, stateDictTensor(p.dtype, t));
  }
  return out;
}

/** One tensor as PyTorch stores a tensor of this dtype. */
export function stateDictTensor(dtype: DTypeName, t: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }): TensorToWrite {
  if (dtype === "f32") return { shape: [...t.shape], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), dtype: "F32" };
  return { shape: [...t.shape], data: Int32Array.from(t.data, (v) => Math.round(v)), dtype: dtype === "i64" ? "I64" : "I32" };
}

/** `tensors` with every counter the model has and they lack added as 0 (I64), as PyTorch's load_state_dict does. */
export function withDefaultCounters(model: ModelGraph, tensors: ReadonlyMap<string, StoredTensor>): Map<string, StoredTensor> {
  const out = new Map(tensors);
  for (const p of model.parameters) {
    if (p.dtype === "i64" && isCounter(p.name) && !out.has(p.name)) out.set(p.name, { dtype: "I64", shape: [...p.shape], data: new Int32Array(numel(p.shape)) });
  }
  return out;
}

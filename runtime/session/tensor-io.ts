// Binds named host tensors (from safetensors files) to a compiled graph's sources, checking
// every name, shape and dtype and reporting all problems at once.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph, SourceNode } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import type { StoredTensor } from "../io/safetensors.js";
import type { Feed } from "../reference/index.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";

export class TensorBindingError extends UserError {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The batch size the inputs imply: the first axis of every model input must agree. */
export function batchOf(model: ModelGraph, inputs: Map<string, StoredTensor>): number {
  const problems: string[] = [];
  const sizes = new Map<string, number>();
  for (const i of model.inputs) {
    const t = inputs.get(i.name);
    if (!t) problems.push(`missing input tensor \`${i.name}\` (${i.kind}, per-sample shape ${shapeText(i.shape)})`);
    else if (t.shape.length !== i.shape.length + 1) problems.push(`input \`${i.name}\` has shape ${shapeText(t.shape)}; expected [batch${i.shape.map((d) => `, ${d}`).join("")}]`);
    else sizes.set(i.name, t.shape[0]);
  }
  const distinct = [...new Set(sizes.values())];
  if (distinct.length > 1) problems.push(`inputs disagree on the batch size: ${[...sizes].map(([n, b]) => `${n}: ${b}`).join(", ")}`);
  if (problems.length) throw new TensorBindingError(problems);
  return distinct[0] ?? 1;
}

function toFeed(t: StoredTensor, dtype: "f32" | "i32"): Tensor {
  const data = dtype === "i32" ? Int32Array.from(t.data as ArrayLike<number>) : Float32Array.from(t.data as ArrayLike<number>);
  return { shape: [...t.shape], data };
}

/**
 * Feeds for every source of `graph`: from `tensors` by name (params, buffers, inputs), from
 * `given` (scalars, optimizer state), or a problem naming what is missing or mis-shaped.
 */
export function bindSources(graph: Graph, tensors: ReadonlyArray<Map<string, StoredTensor>>, given: Record<string, Feed>): Record<string, Feed> {
  const feeds: Record<string, Feed> = {};
  const problems: string[] = [];
  for (const n of graph.nodes) {
    if (!isSource(n)) continue;
    const s = n as SourceNode;
    if (s.name in given) {
      feeds[s.name] = given[s.name];
      continue;
    }
    const t = tensors.map((m) => m.get(s.name)).find((x) => x !== undefined);
    if (!t) {
      problems.push(`missing ${s.op} \`${s.name}\` of shape ${shapeText(s.shape)}`);
      continue;
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      problems.push(`${s.op} \`${s.name}\` has shape ${shapeText(t.shape)}; the spec needs ${shapeText(s.shape)}`);
      continue;
    }
    const isInt = t.dtype === "I32" || t.dtype === "I64";
    if (s.dtype === "i32" && !isInt) problems.push(`${s.op} \`${s.name}\` holds ${t.dtype} values; class labels must be integers (I32 or I64)`);
    else feeds[s.name] = toFeed(t, s.dtype);
  }
  if (problems.length) throw new TensorBindingError(problems);
  return feeds;
}

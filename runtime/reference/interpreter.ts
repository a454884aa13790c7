// The reference interpreter: runs any op graph on the CPU, one node at a time, with the
// registry's reference kernels. It is the oracle every other backend is tested against,
// so it stays plain: no fusion, no scheduling, float32 or float64 storage throughout.

import { registry } from "../../compiler/ops/index.js";
import type { OpDef, RefContext } from "../../compiler/ops/def.js";
import type { OpKind } from "../../compiler/ir/kinds.js";
import { formatShape, formatType, shapesEqual } from "../../compiler/ir/shape.js";
import type { Tensor, TensorData } from "../../compiler/ir/tensor.js";
import type { DType, Graph, OpNode, SourceNode, ValueId } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { formatNode } from "../../compiler/ir/printer.js";

export type Precision = "f32" | "f64";

/** A graph input's value: a tensor, or a plain number for scalars. */
export type Feed = Tensor | number;

export interface RunOptions {
  /** Float storage: "f32" (default, what a device computes) or "f64" (gradient checks). */
  readonly precision?: Precision;
  /** Keep every intermediate value in the result (for debugging); default false. */
  readonly keepValues?: boolean;
}

export interface RunResult {
  readonly outputs: Record<string, Tensor>;
  /** Every value by id, when `keepValues` was set. */
  readonly values?: ReadonlyMap<ValueId, Tensor>;
}

export function runGraph(graph: Graph, feeds: Readonly<Record<string, Feed>> | ReadonlyMap<string, Feed>, opts: RunOptions = {}): RunResult {
  const precision = opts.precision ?? "f32";
  const ctx = refContext(precision);
  const lookup = (name: string): Feed | undefined => (feeds instanceof Map ? feeds.get(name) : (feeds as Record<string, Feed>)[name]);
  const lastUse = opts.keepValues ? null : lastUses(graph);
  const values = new Map<ValueId, Tensor>();

  graph.nodes.forEach((node, position) => {
    values.set(node.id, isSource(node) ? feedValue(node, lookup(node.name), precision) : evalNode(node, values, ctx, graph));
    // free inputs whose last reader was this node
    if (lastUse && !isSource(node)) {
      for (const id of node.inputs) if (lastUse.get(id) === position) values.delete(id);
    }
  });

  const outputs: Record<string, Tensor> = {};
  for (const out of graph.outputs) {
    const v = values.get(out.value);
    if (!v) throw new Error(`internal: output '${out.name}' (%${out.value}) was not computed`);
    outputs[out.name] = v;
  }
  return opts.keepValues ? { outputs, values } : { outputs };
}

export function refContext(precision: Precision): RefContext {
  return {
    precision,
    alloc: (dtype: DType, size: number): TensorData =>
      dtype === "i32" ? new Int32Array(size) : precision === "f64" ? new Float64Array(size) : new Float32Array(size),
  };
}

function evalNode(node: OpNode, values: ReadonlyMap<ValueId, Tensor>, ctx: RefContext, graph: Graph): Tensor {
  const inputs = node.inputs.map((id) => {
    const v = values.get(id);
    if (!v) throw new Error(`internal: %${id} is not available when running ${formatNode(graph, node)}`);
    return v;
  });
  const def = registry[node.op] as OpDef<OpKind>;
  try {
    return { shape: node.shape, data: def.reference(inputs, node.params, node, ctx) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`while running ${formatNode(graph, node)}: ${message}`, { cause: err });
  }
}

/** Checks a feed against its source node and converts it to this run's storage. */
function feedValue(node: SourceNode, feed: Feed | undefined, precision: Precision): Tensor {
  const what = `graph input '${node.name}' (${node.op} ${formatType(node)})`;
  if (feed === undefined) throw new Error(`missing ${what}`);
  const t: Tensor = typeof feed === "number" ? { shape: [], data: Float64Array.of(feed) } : feed;
  if (!shapesEqual(t.shape, node.shape)) throw new Error(`${what} was given shape ${formatShape(t.shape)}`);
  const isInt = t.data instanceof Int32Array;
  if (node.dtype === "i32") {
    if (!isInt) throw new Error(`${what} needs Int32Array data`);
    return t;
  }
  if (isInt) throw new Error(`${what} needs float data, got Int32Array`);
  if (precision === "f32" && !(t.data instanceof Float32Array)) return { shape: t.shape, data: Float32Array.from(t.data) };
  if (precision === "f64" && !(t.data instanceof Float64Array)) return { shape: t.shape, data: Float64Array.from(t.data) };
  return t;
}

/** Position of the last node reading each value; outputs are never freed. */
function lastUses(graph: Graph): Map<ValueId, number> {
  const last = new Map<ValueId, number>();
  graph.nodes.forEach((node, position) => {
    if (!isSource(node)) for (const id of node.inputs) last.set(id, position);
  });
  for (const out of graph.outputs) last.delete(out.value);
  return last;
}

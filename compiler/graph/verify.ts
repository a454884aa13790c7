// The graph invariant checker, run after every pass in tests (JAX's check_jaxpr, tinygrad's
// type_verify): unique ids and names, inputs defined before use (so the graph is acyclic
// and in topological order), arity, and every shape and dtype re-derived from the registry.
// A failure names the pass that produced the graph and prints the nodes around the bad one.

import { registry } from "../ops/index.js";
import { ShapeError } from "../ops/def.js";
import type { OpDef } from "../ops/def.js";
import type { OpKind } from "../ir/kinds.js";
import { formatType, isValidDim, shapesEqual } from "../ir/shape.js";
import type { Graph, Node, OpNode, ValueId, ValueType } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { formatNode, valueNames } from "../ir/printer.js";

export class GraphVerifyError extends Error {
  constructor(
    message: string,
    readonly pass: string | undefined,
    readonly nodeId: ValueId | undefined,
  ) {
    super(message);
    this.name = "GraphVerifyError";
  }
}

/** Throws GraphVerifyError on the first broken invariant. */
export function verifyGraph(graph: Graph, passName?: string): void {
  const types = new Map<ValueId, ValueType>();
  const sourceNames = new Set<string>();
  graph.nodes.forEach((node, position) => {
    const problem = checkNode(node, types, sourceNames);
    if (problem) fail(graph, passName, position, problem);
    types.set(node.id, node);
  });
  const outputNames = new Set<string>();
  for (const out of graph.outputs) {
    if (outputNames.has(out.name)) fail(graph, passName, undefined, `output '${out.name}' is defined twice`);
    if (!types.has(out.value)) fail(graph, passName, undefined, `output '${out.name}' refers to undefined value %${out.value}`);
    outputNames.add(out.name);
  }
}

/** The first broken invariant of one node, or null. */
function checkNode(node: Node, types: ReadonlyMap<ValueId, ValueType>, sourceNames: Set<string>): string | null {
  if (types.has(node.id)) return `value %${node.id} is defined twice`;
  if (!node.shape.every(isValidDim)) return `invalid shape ${formatType(node)}`;
  if (isSource(node)) {
    if (sourceNames.has(node.name)) return `graph input '${node.name}' is defined twice`;
    sourceNames.add(node.name);
    if (node.op !== "input" && node.dtype !== "f32") return `${node.op} '${node.name}' must be f32, got ${formatType(node)}`;
    if (node.op === "scalar" && node.shape.length !== 0) return `scalar '${node.name}' must have shape [], got ${formatType(node)}`;
    return null;
  }
  if (!Object.hasOwn(registry, node.op)) return `unknown op '${node.op}'`;
  const missing = node.inputs.find((id) => !types.has(id));
  if (missing !== undefined) return `input %${missing} is not defined before its use (not in topological order, or dangling)`;
  return checkType(node, node.inputs.map((id) => types.get(id)!));
}

function checkType(node: OpNode, inputs: readonly ValueType[]): string | null {
  const def = registry[node.op] as OpDef<OpKind>;
  const arityOk = def.arity === "variadic" ? inputs.length >= 1 : inputs.length === def.arity;
  if (!arityOk) return `${node.op} expects ${def.arity} input(s), got ${inputs.length}`;
  let derived: ValueType;
  try {
    derived = def.shape(inputs, node.params);
  } catch (err) {
    if (err instanceof ShapeError) return `shape rule failed: ${err.message}`;
    throw err;
  }
  if (!shapesEqual(derived.shape, node.shape) || derived.dtype !== node.dtype) {
    return `stored type ${formatType(node)} but the ${node.op} shape rule gives ${formatType(derived)}`;
  }
  return null;
}

const CONTEXT = 3;

function fail(graph: Graph, pass: string | undefined, position: number | undefined, problem: string): never {
  const where = pass ? ` after pass '${pass}'` : "";
  const names = valueNames(graph);
  let text = `graph verification failed${where}: `;
  if (position === undefined) {
    text += problem;
  } else {
    const node = graph.nodes[position];
    text += `node %${node.id} (${node.op}): ${problem}\n`;
    const lo = Math.max(0, position - CONTEXT);
    const hi = Math.min(graph.nodes.length, position + CONTEXT + 1);
    const lines = graph.nodes.slice(lo, hi).map((n, i) => `${lo + i === position ? "  > " : "    "}${formatNode(names, n)}`);
    text += lines.join("\n");
  }
  throw new GraphVerifyError(text, pass, position === undefined ? undefined : graph.nodes[position].id);
}

// Text form of a graph: one typed let-binding per node (jax-js Jaxpr.pprint), e.g.
//   %12: f32[4,64,16,16] = conv2d(%3, %downs.1.resnets.0.conv1.2.weight) stride=1 padding=1
// Sources are named by their graph-input name, op results by id. Tests pin it with
// inline snapshots; the CLI's --emit graph prints it.

import { formatType, shapesEqual } from "./shape.js";
import type { Graph, Node, OpNode, ValueId } from "./types.js";
import { isSource } from "./types.js";

export interface PrintOptions {
  /** Append a line of op counts; default true. */
  readonly counts?: boolean;
  /** Append `# label` to nodes that have one; default true. */
  readonly labels?: boolean;
}

export type ValueNames = ReadonlyMap<ValueId, string>;

/** `%name` for sources, `%id` for op results. */
export function valueNames(graph: Graph): ValueNames {
  const names = new Map<ValueId, string>();
  for (const n of graph.nodes) names.set(n.id, isSource(n) ? `%${n.name}` : `%${n.id}`);
  return names;
}

export function printGraph(graph: Graph, opts: PrintOptions = {}): string {
  const names = valueNames(graph);
  const lines = graph.nodes.map((n) => formatNode(names, n, opts.labels ?? true));
  for (const out of graph.outputs) lines.push(`output ${out.name} = ${names.get(out.value) ?? `%${out.value}`}`);
  if (opts.counts ?? true) lines.push(formatOpCounts(opCounts(graph)));
  return lines.join("\n");
}

/** One node as a let-binding; `graph` or precomputed names resolve its inputs. */
export function formatNode(graphOrNames: Graph | ValueNames, node: Node, withLabel = true): string {
  const names = graphOrNames instanceof Map ? graphOrNames : valueNames(graphOrNames as Graph);
  const name = (id: ValueId): string => names.get(id) ?? `%${id}?`;
  const label = withLabel && node.label !== undefined ? `  # ${node.label}` : "";
  if (isSource(node)) return `${name(node.id)}: ${formatType(node)} = ${node.op}${label}`;
  const params = formatParams(paramsToShow(node));
  const args = node.inputs.map(name).join(", ");
  return `${name(node.id)}: ${formatType(node)} = ${node.op}(${args})${params ? " " + params : ""}${label}`;
}

/** The node's params minus those its printed type already states (a target shape, a dtype). */
export function paramsToShow(node: OpNode): Readonly<Record<string, unknown>> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node.params)) {
    if (key === "shape" && Array.isArray(value) && shapesEqual(value, node.shape)) continue;
    if (key === "dtype" && value === node.dtype) continue;
    shown[key] = value;
  }
  return shown;
}

export function formatParams(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${formatParamValue(value)}`)
    .join(" ");
}

function formatParamValue(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length <= 8) return `[${value.map(formatParamValue).join(",")}]`;
    const head = value.slice(0, 4).map(formatParamValue).join(",");
    return `[${head},...](${value.length})`;
  }
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

/** How many nodes of each op kind (sources excluded), most frequent first. */
export function opCounts(graph: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of graph.nodes) if (!isSource(n)) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  return new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function formatOpCounts(counts: ReadonlyMap<string, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts].map(([op, n]) => `${n} ${op}`);
  return `# ${total} op${total === 1 ? "" : "s"}${parts.length ? ": " + parts.join(", ") : ""}`;
}

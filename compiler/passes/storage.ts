// Which values have storage of their own, and how much: shared by the schedule (stacked
// kernels lay values out end to end) and the memory plan (which places them).
import type { Graph, Node, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { numel } from "../ir/shape.js";

/** Sources and constants: written from the host, never by a kernel (the memory plan's persistent values). */
export function isHostValue(n: Node): boolean {
  return isSource(n) || n.op === "fill" || n.op === "constant";
}

/** Reshape outputs share their input's memory; the map gives each alias its root value. */
export function aliasRoot(graph: Graph): Map<ValueId, ValueId> {
  const root = new Map<ValueId, ValueId>();
  for (const n of graph.nodes) if (!isSource(n) && n.op === "reshape") root.set(n.id, root.get(n.inputs[0]) ?? n.inputs[0]);
  return root;
}

/** Bytes of one stored value (f32 and i32 alike; at least one word). */
export const valueBytes = (shape: readonly number[]) => Math.max(4, numel(shape) * 4);

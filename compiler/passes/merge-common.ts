// Common subexpressions merged: an op node equal to an earlier one (the same op, params, dtype,
// shape and inputs, once those inputs are themselves merged) becomes that node. Every op is pure,
// so equal nodes hold equal values. compile.ts runs it on the forward graph, before the training
// step is built: the lesson's resblocks each take `silu(emb)` of the one time embedding (as the
// course's EmbResBlock does), which was a sigmoid and a mul kernel per block, forward and
// backward; merged, it is computed once and the backward sums the blocks' cotangents first.
// Config S: 727 -> 681 kernels (bench/RESULTS.md, "Common subexpressions").
// Not run on the training graph: there equal nodes are mostly twins of gradients (a residual
// block's two bias gradients) that each feed their own member of a stacked optimizer update,
// whose runs need a value per member; merged, the stacks fell apart.
import { GraphBuilder } from "../graph/builder.js";
import type { Graph, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";

/** Binary ops whose operands may swap (with broadcasting, either order gives the same shape). */
const COMMUTATIVE = new Set(["add", "mul", "max", "eq"]);

/** The graph with every op node equal to an earlier one replaced by it; the same graph (object) where none is. */
export function mergeCommonSubexpressions(graph: Graph): Graph {
  const firstOf = new Map<ValueId, ValueId>();
  const first = new Map<string, ValueId>();
  for (const n of graph.nodes) {
    if (isSource(n)) continue;
    const inputs = n.inputs.map((i) => firstOf.get(i) ?? i);
    if (COMMUTATIVE.has(n.op)) inputs.sort((a, b) => a - b);
    const key = `${n.op}|${n.dtype}|${n.shape.join(",")}|${inputs.join(",")}|${JSON.stringify(n.params)}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, n.id);
    else firstOf.set(n.id, earlier);
  }
  if (!firstOf.size) return graph;
  const { builder } = GraphBuilder.fromGraph(graph, (node, valueOf) => (firstOf.has(node.id) ? valueOf(firstOf.get(node.id)!) : undefined));
  return builder.build();
}

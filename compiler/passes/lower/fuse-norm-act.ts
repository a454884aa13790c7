// Norm + SiLU: the pre-activation blocks' `batchnorm |> silu` becomes one batchnorm_apply with
// act "silu" (ops/batchnorm.ts), so the normalized y is never written, nor kept for SiLU's
// backward: the backward recomputes it from x and the statistics where it reads the cotangent.
// On lavapipe (config M) SiLU's own forward and backward kernels were ~3.6% of the step, and y
// one more activation-sized buffer per norm live until the backward.
//
// The pattern, on the forward graph after lowering: h = mul(y, sigmoid(y)) (composites' silu),
// where y = batchnorm_apply(...) without an activation, y is read only by that sigmoid and that
// mul, the sigmoid only by the mul, and neither is a graph output. Anything else reading y keeps
// the graph as it is.
import { GraphBuilder } from "../../graph/builder.js";
import type { Graph, Node, OpNodeOf, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import type { OpKind } from "../../ir/kinds.js";

const isOp = <K extends OpKind>(n: Node | undefined, op: K): n is Node & OpNodeOf<K> => n !== undefined && !isSource(n) && n.op === op;

/** The graph with every BatchNorm + SiLU pattern fused; the same graph (object) where there is none. */
export function fuseNormActivations(graph: Graph): Graph {
  const readers = new Map<ValueId, ValueId[]>();
  for (const n of graph.nodes) if (!isSource(n)) for (const i of new Set(n.inputs)) readers.set(i, [...(readers.get(i) ?? []), n.id]);
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const only = (id: ValueId, want: readonly ValueId[]) => {
    const r = readers.get(id) ?? [];
    return r.length === want.length && want.every((w) => r.includes(w)) && !outputs.has(id);
  };

  // h (the mul) -> y (the norm), and the values the fused node replaces
  const fused = new Map<ValueId, OpNodeOf<"batchnorm_apply">>();
  const skipped = new Set<ValueId>();
  for (const h of graph.nodes) {
    if (!isOp(h, "mul") || h.inputs.length !== 2) continue;
    const [a, b] = h.inputs.map((i) => graph.nodes[i]);
    const [y, s] = isOp(b, "sigmoid") && b.inputs[0] === a.id ? [a, b] : isOp(a, "sigmoid") && a.inputs[0] === b.id ? [b, a] : [undefined, undefined];
    if (!y || !s || !isOp(y, "batchnorm_apply") || y.params.act) continue;
    if (!only(y.id, [s.id, h.id]) || !only(s.id, [h.id])) continue;
    fused.set(h.id, y);
    skipped.add(y.id).add(s.id);
  }
  if (!fused.size) return graph;

  const { builder } = GraphBuilder.fromGraph(graph, (node, valueOf, b) => {
    if (skipped.has(node.id)) return "drop";
    const norm = fused.get(node.id);
    // labelled as the norm's layer, whose kernel it is
    return norm && b.withLabel(norm.label, () => b.op("batchnorm_apply", norm.inputs.map(valueOf), { ...norm.params, act: "silu" }));
  });
  return builder.build();
}

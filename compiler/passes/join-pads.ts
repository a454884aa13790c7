// A sum of two zero-pads that place their values side by side is a concat: add(pad(a), pad(b)),
// where a fills the front of one axis and b the rest (no other axis padded), is concat([a, b]).
// Autodiff makes this sum wherever a value is split in two: the VJP of a slice pads the slice's
// cotangent back to the whole, and the two are added. The lesson's resblocks split their
// embedding projection into a scale and a shift, so each block's backward had two pad kernels and
// an add where one concat kernel does (bench/RESULTS.md, "Complementary pads").
import { GraphBuilder } from "../graph/builder.js";
import type { Graph, Node, OpNodeOf, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";

const asPad = (n: Node): OpNodeOf<"pad"> | undefined => (!isSource(n) && n.op === "pad" ? (n as OpNodeOf<"pad">) : undefined);

/** The one axis `p` pads, or undefined where it pads none or several. */
function paddedAxis(p: OpNodeOf<"pad">): number | undefined {
  const axes = p.params.before.flatMap((b, ax) => (b !== 0 || p.params.after[ax] !== 0 ? [ax] : []));
  return axes.length === 1 ? axes[0] : undefined;
}

/** [front, back, axis] where pads `p` and `q` put their inputs side by side along one axis, covering it. */
function sideBySide(graph: Graph, p: OpNodeOf<"pad">, q: OpNodeOf<"pad">): [ValueId, ValueId, number] | undefined {
  const ax = paddedAxis(p);
  if (ax === undefined || paddedAxis(q) !== ax) return undefined;
  const size = (id: ValueId) => graph.nodes[id].shape[ax];
  const fits = (front: OpNodeOf<"pad">, back: OpNodeOf<"pad">) =>
    front.params.before[ax] === 0 && back.params.after[ax] === 0 && front.params.after[ax] === size(back.inputs[0]) && back.params.before[ax] === size(front.inputs[0]);
  if (fits(p, q)) return [p.inputs[0], q.inputs[0], ax];
  if (fits(q, p)) return [q.inputs[0], p.inputs[0], ax];
  return undefined;
}

/** The graph with every such sum a concat; the same graph (object) where there is none. */
export function joinComplementaryPads(graph: Graph): Graph {
  const joins = new Map<ValueId, [ValueId, ValueId, number]>();
  for (const n of graph.nodes) {
    if (isSource(n) || n.op !== "add" || n.inputs.length !== 2) continue;
    const [p, q] = n.inputs.map((i) => asPad(graph.nodes[i]));
    if (!p || !q || p.dtype !== n.dtype || q.dtype !== n.dtype) continue;
    const joined = sideBySide(graph, p, q);
    if (joined) joins.set(n.id, joined);
  }
  if (!joins.size) return graph;
  // the pads die where the sum was their only reader (build() prunes them)
  const { builder } = GraphBuilder.fromGraph(graph, (node, valueOf, b) => {
    const j = joins.get(node.id);
    return j && b.concat([valueOf(j[0]), valueOf(j[1])], j[2]);
  });
  return builder.build();
}

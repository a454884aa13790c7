// Equal op nodes merged (compiler/passes/merge-common.ts): twins become one node, through
// chains and commutative operands; nodes that differ in params are left apart; a graph without
// twins comes back as the same object; the merged graph computes what the original did; and
// on the lesson's model the blocks' SiLU of the one time embedding is computed once.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { mergeCommonSubexpressions } from "../../compiler/passes/merge-common.js";
import { isSource, type Graph } from "../../compiler/ir/types.js";
import { runGraph } from "../../runtime/reference/index.js";
import { randomData } from "../webgpu/gpu-harness.js";

const opsOf = (g: Graph) => g.nodes.filter((n) => !isSource(n)).map((n) => n.op);

/** Two copies of the same computation, written with their operands swapped, and one that differs. */
function twins(): Graph {
  const b = new GraphBuilder();
  const x = b.input("x", [4, 6]);
  const w = b.input("w", [6, 3]);
  const s1 = b.mul(x, b.sigmoid(x));
  const s2 = b.mul(b.sigmoid(x), x);
  b.output("a", b.matmul(s1, w));
  b.output("b", b.matmul(s2, w));
  b.output("top", b.sliceAxis(x, 0, 0, 2));
  b.output("bottom", b.sliceAxis(x, 0, 2, 4));
  return b.build();
}

describe("merging equal op nodes", () => {
  it("makes twins one node, through chains and swapped operands of commutative ops", () => {
    const g = twins();
    expect(opsOf(g).filter((o) => o === "sigmoid")).toHaveLength(2);
    const merged = mergeCommonSubexpressions(g);
    const ops = opsOf(merged);
    expect(ops.filter((o) => o === "sigmoid")).toHaveLength(1);
    expect(ops.filter((o) => o === "mul")).toHaveLength(1);
    expect(ops.filter((o) => o === "matmul")).toHaveLength(1);
    const out = (name: string) => merged.outputs.find((o) => o.name === name)!.value;
    expect(out("a")).toBe(out("b"));
  });

  it("leaves apart nodes whose params differ", () => {
    const merged = mergeCommonSubexpressions(twins());
    expect(opsOf(merged).filter((o) => o === "slice")).toHaveLength(2);
  });

  it("returns a graph without twins as it is", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [3]);
    b.output("y", b.add(b.exp(x), b.sigmoid(x)));
    const g = b.build();
    expect(mergeCommonSubexpressions(g)).toBe(g);
  });

  it("computes what the original graph computes", () => {
    const g = twins();
    const feeds = { x: { shape: [4, 6], data: randomData(24, 1) }, w: { shape: [6, 3], data: randomData(18, 2) } };
    const [want, got] = [runGraph(g, feeds).outputs, runGraph(mergeCommonSubexpressions(g), feeds).outputs];
    for (const name of ["a", "b", "top", "bottom"]) expect(Array.from(got[name].data)).toEqual(Array.from(want[name].data));
  });

  it("computes the lesson's blocks' SiLU of the time embedding once (opt 1), and leaves it to each block at opt 0", () => {
    const model = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=0", "classes=3"] }).graph!;
    const sigmoids = (opt: 0 | 1) => opsOf(buildGraph(model, { batch: 2, mode: "train", opt, fuseBatchNorm: true })).filter((o) => o === "sigmoid").length;
    // the embedding MLP's own SiLU, and one for every block's projection of the embedding
    expect(sigmoids(1)).toBe(2);
    expect(sigmoids(0)).toBeGreaterThan(4);
  });
});

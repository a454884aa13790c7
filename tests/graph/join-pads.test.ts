// Two zero-pads added side by side become a concat (compiler/passes/join-pads.ts): in either
// order of the add's operands; not where the pads overlap, leave a gap, or pad another axis too;
// the same values on the reference interpreter; and in the lesson's training step, the backward
// of each block's scale/shift split has no pad left at opt 1.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { joinComplementaryPads } from "../../compiler/passes/join-pads.js";
import { isSource, type Graph } from "../../compiler/ir/types.js";
import { runGraph } from "../../runtime/reference/index.js";
import { randomData } from "../webgpu/gpu-harness.js";

const opsOf = (g: Graph) => g.nodes.filter((n) => !isSource(n)).map((n) => n.op);

/** add(pad(a), pad(b)) on [3, 8] with a [3, 5] and b [3, 3], pads as given. */
function padded(aBefore: number, aAfter: number, bBefore: number, bAfter: number, swap = false, other = 0): Graph {
  const b = new GraphBuilder();
  const x = b.input("a", [3, 5]);
  const y = b.input("b", [3, 3]);
  const pa = b.pad(x, [other, aBefore], [0, aAfter]);
  const pb = b.pad(y, [other, bBefore], [0, bAfter]);
  b.output("out", swap ? b.add(pb, pa) : b.add(pa, pb));
  return b.build();
}

describe("joining complementary pads", () => {
  it("makes a sum of two pads side by side a concat, in either operand order", () => {
    for (const swap of [false, true]) {
      const joined = joinComplementaryPads(padded(0, 3, 5, 0, swap));
      expect(opsOf(joined)).toEqual(["concat"]);
      const feeds = { a: { shape: [3, 5], data: randomData(15, 1) }, b: { shape: [3, 3], data: randomData(9, 2) } };
      const original = padded(0, 3, 5, 0, swap);
      expect(Array.from(runGraph(joined, feeds).outputs.out.data)).toEqual(Array.from(runGraph(original, feeds).outputs.out.data));
    }
  });

  it("leaves pads that overlap, do not meet, or pad another axis too", () => {
    // a at [0, 5) and b at [4, 7) of 8; a at [1, 6) and b at [5, 8); both also padded on axis 0
    for (const g of [padded(0, 3, 4, 1), padded(1, 2, 5, 0), padded(0, 3, 5, 0, false, 1)]) expect(joinComplementaryPads(g)).toBe(g);
  });

  it("leaves no pad in the lesson's training step at opt 1 (each block's scale/shift split)", () => {
    const model = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=0", "classes=3"] }).graph!;
    const pads = (opt: 0 | 1) => opsOf(buildGraph(model, { batch: 2, mode: "step", opt })).filter((o) => o === "pad").length;
    expect(pads(0)).toBeGreaterThan(0);
    expect(pads(1)).toBe(0);
  });
});

// Transposes folded into matmuls (compiler/passes/schedule/schedule.ts, foldTransposes and the
// transposed store): a transpose of the last two axes that only matmuls read, directly or through
// another such transpose, is no kernel of its own (the matmul reads the stored tensor in place,
// transposed or not); a matmul whose one reader is such a transpose stores its result
// transposed. The schedule shows it, and on the device every output equals the reference
// interpreter's, in the CPU and the GPU tile layouts; fuse: false (--opt 0) keeps the copies.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph, type CompiledGraph } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { expectGraphMatchesReference, getGpu, randomData } from "./gpu-harness.js";

const gpu = await getGpu();

function tensor(shape: number[], seed: number): Tensor {
  return { shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed) };
}

/** A linear layer's forward and backward: y = x @ W^T, dx = g @ (W^T)^T, dW = (x^T @ g)^T (an output). */
function linear(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const x = b.input("x", [6, 5]);
  const w = b.input("w", [7, 5]);
  const g = b.input("g", [6, 7]);
  const wt = b.transposeLast2(w);
  b.output("y", b.matmul(x, wt));
  b.output("dx", b.matmul(g, b.transposeLast2(wt)));
  b.output("dw", b.transposeLast2(b.matmul(b.transposeLast2(x), g)));
  return { graph: b.build(), feeds: { x: tensor([6, 5], 1), w: tensor([7, 5], 2), g: tensor([6, 7], 3) } };
}

/** Batched, with a broadcast operand: a [2, 3, 4, 5] @ (b [3, 6, 5])^T, and the transposed product as an output. */
function batched(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const a = b.input("a", [2, 3, 4, 5]);
  const m = b.input("m", [3, 6, 5]);
  const p = b.matmul(a, b.transposeLast2(m));
  b.output("p", b.transposeLast2(b.matmul(b.transposeLast2(b.transposeLast2(a)), b.transposeLast2(m))));
  b.output("q", b.add(p, p));
  return { graph: b.build(), feeds: { a: tensor([2, 3, 4, 5], 4), m: tensor([3, 6, 5], 5) } };
}

describe("transposes folded into matmuls, in the schedule", () => {
  it("leaves no transpose kernel in a linear layer's forward and backward", () => {
    const labels = compileGraph(linear().graph, { hardware: false }).kernels.map((k) => k.label);
    expect(labels.filter((l) => l === "transpose")).toEqual([]);
    expect(labels.sort()).toEqual(["matmul", "matmul", "matmul+transpose"]);
  });

  it("keeps a transpose that something other than a matmul reads, or the graph outputs, and all of them at fuse: false", () => {
    const b = new GraphBuilder();
    const w = b.input("w", [3, 4]);
    const t = b.transposeLast2(w);
    b.output("y", b.matmul(b.input("x", [2, 4]), t));
    b.output("t", t);
    expect(compileGraph(b.build(), { hardware: false }).kernels.map((k) => k.label)).toContain("transpose");
    const plain = compileGraph(linear().graph, { hardware: false, fuse: false }).kernels.map((k) => k.label);
    expect(plain.filter((l) => l === "transpose")).toHaveLength(4);
  });
});

describe.skipIf(typeof gpu === "string")("folded transposes on the device", () => {
  it.each([
    ["a linear layer's forward and backward", linear],
    ["batched and broadcast operands", batched],
  ])("%s equal the reference interpreter, on CPU and GPU tile layouts", async (_, make) => {
    if (typeof gpu === "string") return;
    const { graph, feeds } = make();
    const noTranspose = (c: CompiledGraph) => expect(c.kernels.some((k) => k.label === "transpose")).toBe(false);
    for (const hardware of [false, true]) await expectGraphMatchesReference(gpu, graph, feeds, { hardware, inspect: noTranspose });
  });
});

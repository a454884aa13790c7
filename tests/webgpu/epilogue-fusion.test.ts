// GEMM epilogues (compiler/passes/schedule/chain.ts): an elementwise chain that is the only
// reader of a matmul's or a convolution's result runs in the GEMM's store. The schedule shows
// one kernel for both, the result equals the reference interpreter's, and `fuse: false`
// (--opt 0) keeps them apart.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { expectGraphMatchesReference, getGpu, randomData } from "./gpu-harness.js";

const gpu = await getGpu();

function tensor(shape: number[], seed: number): Tensor {
  return { shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed) };
}

/** conv2d + per-channel bias + a residual, scaled: the resblock's tail. */
function convTail(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const x = b.input("x", [2, 3, 6, 6]);
  const w = b.input("w", [5, 3, 3, 3]);
  const bias = b.input("bias", [1, 5, 1, 1]);
  const res = b.input("res", [2, 5, 6, 6]);
  const s = b.input("s", [1]);
  b.output("out", b.mul(b.add(b.add(b.conv2d(x, w, { padding: 1 }), bias), res), s));
  const feeds = { x: tensor([2, 3, 6, 6], 1), w: tensor([5, 3, 3, 3], 2), bias: tensor([1, 5, 1, 1], 3), res: tensor([2, 5, 6, 6], 4), s: tensor([1], 5) };
  return { graph: b.build(), feeds };
}

/** Attention's scores: q @ k^T times a scale, and a matmul read twice (no fusion). */
function scores(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const q = b.input("q", [4, 16, 8]);
  const k = b.input("k", [4, 8, 16]);
  const s = b.input("s", [1]);
  const qk = b.matmul(q, k);
  b.output("out", b.mul(qk, s));
  const twice = b.matmul(q, k);
  b.output("twice", b.add(twice, b.mul(twice, s)));
  return { graph: b.build(), feeds: { q: tensor([4, 16, 8], 6), k: tensor([4, 8, 16], 7), s: tensor([1], 8) } };
}

describe("GEMM epilogue fusion in the schedule", () => {
  it("runs the bias add, the residual add and the scale in the conv's kernel", () => {
    const labels = compileGraph(convTail().graph, { hardware: false }).kernels.map((k) => k.label);
    expect(labels).toEqual(["conv2d+add+add+mul"]);
    const plain = compileGraph(convTail().graph, { hardware: false, fuse: false }).kernels.map((k) => k.label);
    expect(plain).toEqual(["conv2d", "add", "add", "mul"]);
  });

  it("fuses a matmul's scale, but not a chain over a result that has other readers", () => {
    const labels = compileGraph(scores().graph, { hardware: false }).kernels.map((k) => k.label);
    expect(labels).toContain("matmul+mul");
    expect(labels.filter((l) => l === "matmul")).toHaveLength(1);
  });
});

describe.skipIf(typeof gpu === "string")("GEMM epilogues on the device", () => {
  it.each([
    ["conv tail", convTail],
    ["attention scores", scores],
  ])("%s equals the reference interpreter, on CPU and GPU tile layouts", async (_, make) => {
    if (typeof gpu === "string") return;
    const { graph, feeds } = make();
    for (const hardware of [false, true]) await expectGraphMatchesReference(gpu, graph, feeds, { hardware });
  });
});

// Multi-output fusion (compiler/passes/schedule/schedule.ts, mergeProducers): an elementwise
// chain whose readers all lie in one later chain joins that chain's kernel, and is stored from
// there where the graph outputs it. The schedule shows one kernel writing every such value, each
// in a buffer of its own; on the device every output equals the reference interpreter's; without
// the bindings for it, or at fuse: false (--opt 0), the chains stay apart. Likewise a whole row
// of BatchNorm's statistics sliced out is stored by the statistics' kernel.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph, type CompiledGraph } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { expectGraphMatchesReference, getGpu, randomData } from "./gpu-harness.js";

const gpu = await getGpu();
const WIDE = { maxStorageBuffersPerShaderStage: 16 };

function tensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return { shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed, lo, hi) };
}

/** One Adam update (adam.ts's arithmetic): both moments are outputs and read by the parameter's update. */
function adamLike(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const shape = [3, 5, 7];
  const [p, m, v, g] = ["p", "m", "v", "g"].map((n) => b.input(n, shape));
  const [b1, b2, wd, step, eps] = ["b1", "b2", "wd", "step", "eps"].map((n) => b.input(n, [1]));
  const decayed = () => b.add(g, b.mul(p, wd));
  const m1 = b.add(b.mul(m, b1), b.mul(decayed(), b.sub(1, b1)));
  const v1 = b.add(b.mul(v, b2), b.mul(b.square(decayed()), b.sub(1, b2)));
  b.output("new.m", m1);
  b.output("new.v", v1);
  b.output("new.p", b.sub(p, b.mul(b.div(m1, b.add(b.sqrt(v1), eps)), step)));
  const feeds = {
    p: tensor(shape, 1), m: tensor(shape, 2), v: tensor(shape, 3, 0, 1), g: tensor(shape, 4),
    b1: tensor([1], 5, 0.8, 0.9), b2: tensor([1], 6, 0.9, 0.99), wd: tensor([1], 7, 0, 0.1), step: tensor([1], 8, 0, 0.01), eps: tensor([1], 9, 1e-5, 1e-4),
  };
  return { graph: b.build(), feeds };
}

/** A normalized value read twice by the SiLU after it, and by nothing else: not an output. */
function normSilu(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const x = b.input("x", [2, 4, 6, 6]);
  const scale = b.input("scale", [1, 4, 1, 1]);
  const shift = b.input("shift", [1, 4, 1, 1]);
  const y = b.add(b.mul(x, scale), shift);
  b.output("out", b.mul(y, b.sigmoid(y)));
  return { graph: b.build(), feeds: { x: tensor([2, 4, 6, 6], 10), scale: tensor([1, 4, 1, 1], 11), shift: tensor([1, 4, 1, 1], 12) } };
}

/**
 * BatchNorm's statistics and their gradient, each row of both sliced out and output (as the
 * running statistics' update and the weight's and bias's gradients read them).
 */
function statsRows(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const x = b.input("x", [3, 4, 5, 5]);
  const dh = b.input("dh", [3, 4, 5, 5]);
  const stats = b.op("batchnorm_stats", [x], {});
  const grads = b.op("batchnorm_grad_stats", [x, dh, stats], { eps: 1e-5 });
  for (const [name, t] of [["stats", stats], ["grads", grads]] as const) {
    b.output(`${name}.mean`, b.sliceAxis(t, 0, 0, 1));
    b.output(`${name}.var`, b.sliceAxis(t, 0, 1, 2));
  }
  b.output("both", b.add(stats, grads)); // the [2, C] results are read whole too
  return { graph: b.build(), feeds: { x: tensor([3, 4, 5, 5], 20), dh: tensor([3, 4, 5, 5], 21) } };
}

describe("multi-output fusion in the schedule", () => {
  it("stores whole rows of BatchNorm's statistics from their kernel: both of the statistics', one of the gradient's", () => {
    const c = compileGraph(statsRows().graph, { hardware: false });
    expect(c.kernels.map((k) => k.label).filter((l) => l.startsWith("batchnorm"))).toEqual(["batchnorm_stats+slice", "batchnorm_grad_stats+slice"]);
    const [stats, grads] = c.kernels.filter((k) => k.label.startsWith("batchnorm"));
    expect(stats.extraOutputs).toHaveLength(2);
    // the optimizer keeps every gradient in one run, which a kernel may bind writable only once
    expect(grads.extraOutputs).toHaveLength(1);
    expect(c.kernels.filter((k) => k.label === "slice")).toHaveLength(1);
    expect(stats.source.code).toContain("out2[ch] = r1;");
    const plain = compileGraph(statsRows().graph, { hardware: false, fuse: false });
    expect(plain.kernels.filter((k) => k.label === "slice")).toHaveLength(4);
  });


  it("computes Adam's moments in the parameter update's kernel and stores all three from it", () => {
    const { graph } = adamLike();
    const c = compileGraph(graph, { hardware: false, limits: WIDE });
    const updates = c.kernels.filter((k) => k.nodes.length > 1);
    expect(updates).toHaveLength(1);
    const [k] = updates;
    const name = new Map(graph.outputs.map((o) => [o.value, o.name]));
    expect([k.output, ...(k.extraOutputs ?? [])].map((id) => name.get(id)).sort()).toEqual(["new.m", "new.p", "new.v"]);
    const slots = [k.output, ...k.extraOutputs!].map((id) => c.plan.slotOf.get(id));
    expect(new Set(slots).size).toBe(3);
    expect(k.source.code).toContain("out2[i] = ");
  });

  it("keeps them apart without the bindings for one kernel, and at fuse: false", () => {
    const { graph } = adamLike();
    const narrow = compileGraph(graph, { hardware: false, limits: { maxStorageBuffersPerShaderStage: 8 } });
    expect(narrow.kernels.every((k) => !k.extraOutputs)).toBe(true);
    expect(narrow.kernels.filter((k) => k.nodes.length > 1).length).toBeGreaterThan(1);
    const plain = compileGraph(graph, { hardware: false, limits: WIDE, fuse: false });
    expect(plain.kernels.every((k) => k.nodes.length === 1)).toBe(true);
  });

  it("joins a value read twice by one chain into it without storing it", () => {
    const c = compileGraph(normSilu().graph, { hardware: false, limits: WIDE });
    expect(c.kernels.map((k) => k.label)).toEqual(["mul+add+sigmoid+mul"]);
    expect(c.kernels[0].extraOutputs).toBeUndefined();
  });
});

describe.skipIf(typeof gpu === "string")("multi-output kernels on the device", () => {
  it.each([
    ["an Adam update", adamLike],
    ["a scale-shift and SiLU", normSilu],
  ])("%s equals the reference interpreter in every output", async (_, make) => {
    if (typeof gpu === "string") return;
    const { graph, feeds } = make();
    const fused = (c: CompiledGraph) => expect(c.kernels.some((k) => k.nodes.length > 3)).toBe(true);
    await expectGraphMatchesReference(gpu, graph, feeds, { hardware: false, inspect: fused });
  });

  it.each([false, true])("BatchNorm's statistics stored with their rows equal the reference interpreter in every output (hardware tiles: %s)", async (hardware) => {
    if (typeof gpu === "string") return;
    const { graph, feeds } = statsRows();
    const rows = (c: CompiledGraph) => expect(c.kernels.filter((k) => k.label.endsWith("+slice"))).toHaveLength(2);
    await expectGraphMatchesReference(gpu, graph, feeds, { hardware, inspect: rows, atol: 1e-4 });
  });
});

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Value } from "../../compiler/ir/value.js";
import { batchNorm, conv2dLayer, silu } from "../../compiler/graph/composites/index.js";
import { runGraph } from "../../runtime/reference/interpreter.js";
import { buildTrainStep } from "../../compiler/passes/step/index.js";
import { wave } from "../ops/run-op.js";

function affine() {
  const b = new GraphBuilder();
  const x = b.input("x", [2, 2]);
  const s = b.scalar("s");
  b.output("y", b.add(b.mul(x, s), 1));
  return b.build();
}

describe("runGraph", () => {
  test("scalars may be plain numbers; storage follows the precision", () => {
    const x = { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) };
    const f32 = runGraph(affine(), { x, s: 0.1 }).outputs.y;
    const f64 = runGraph(affine(), { x, s: 0.1 }, { precision: "f64" }).outputs.y;
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect(f64.data).toBeInstanceOf(Float64Array);
    expect(Array.from(f64.data)).toEqual([1, 2, 3, 4].map((v) => v * 0.1 + 1));
    expect(Array.from(f32.data)).toEqual([1, 2, 3, 4].map((v) => Math.fround(Math.fround(v * Math.fround(0.1)) + 1)));
  });

  test("feeds are checked by name, shape and dtype", () => {
    const x = { shape: [2, 2], data: new Float32Array(4) };
    expect(() => runGraph(affine(), { x })).toThrow("missing graph input 's' (scalar f32[])");
    expect(() => runGraph(affine(), { x: { shape: [4], data: new Float32Array(4) }, s: 1 })).toThrow("graph input 'x' (input f32[2,2]) was given shape [4]");
    expect(() => runGraph(affine(), { x: { shape: [2, 2], data: new Int32Array(4) }, s: 1 })).toThrow("needs float data, got Int32Array");
  });

  test("keepValues exposes every intermediate", () => {
    const r = runGraph(affine(), { x: { shape: [2, 2], data: new Float32Array(4) }, s: 2 }, { keepValues: true });
    expect([...r.values!.keys()]).toEqual([0, 1, 2, 3, 4]);
  });

  // Speed is measured by `npm run bench:reference`, never asserted here (a loaded machine fails it).
  test("a 20-conv model at batch 4 runs forward and a whole training step", () => {
    const b = new GraphBuilder();
    let h: Value = b.input("x", [4, 32, 16, 16]);
    for (let i = 0; i < 20; i++) {
      if (i === 10) h = conv2dLayer(b, h, b.param(`down.weight`, [64, 32, 3, 3]), null, 2, 1); // 16x16 -> 8x8
      const c = h.shape[1];
      const bn = batchNorm(b, h, b.param(`bn${i}.weight`, [c]), b.param(`bn${i}.bias`, [c]), b.buffer(`bn${i}.running_mean`, [c]), b.buffer(`bn${i}.running_var`, [c]), { training: true });
      h = conv2dLayer(b, silu(b, bn.y), b.param(`conv${i}.weight`, [c, c, 3, 3]), b.param(`conv${i}.bias`, [c]), 1, 1);
    }
    b.output("output", h);
    const graph = b.build();
    const feeds = new Map(graph.nodes.flatMap((n) => ("name" in n ? [[n.name, wave(n.shape, n.id)] as const] : [])));
    const forward = runGraph(graph, feeds).outputs.output;
    expect(forward.shape).toEqual([4, 64, 8, 8]);
    expect(forward.data.every(Number.isFinite)).toBe(true);

    const step = buildTrainStep(graph, { optimizer: "adam" });
    const hyper: Record<string, number> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weight_decay: 0, step: 1 };
    for (const n of step.nodes) if ("name" in n && !feeds.has(n.name)) feeds.set(n.name, n.name in hyper ? { shape: [], data: Float32Array.of(hyper[n.name]) } : wave(n.shape, n.id));
    const after = runGraph(step, feeds).outputs;
    expect(Number.isFinite(after.loss.data[0])).toBe(true);
    expect(after["new.conv19.weight"].shape).toEqual([64, 64, 3, 3]);
  });
});

// The one-graph training step: loss, gradients, and Adam / AdamW with PyTorch's formulas.

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { formatOpCounts, opCounts } from "../../compiler/ir/printer.js";
import { batchNorm, linear } from "../../compiler/graph/composites/index.js";
import { buildTrainStep } from "../../compiler/passes/step/index.js";
import { runGraph, type Feed } from "../../runtime/reference/interpreter.js";
import { wave } from "../ops/run-op.js";

/** A training-mode forward graph: linear -> BatchNorm1d, exposing updated running stats. */
function forward(): Graph {
  const b = new GraphBuilder();
  const x = b.input("x", [4, 3]);
  const h = linear(b, x, b.param("fc.weight", [2, 3]), b.param("fc.bias", [2]));
  const bn = batchNorm(b, h, b.param("bn.weight", [2]), b.param("bn.bias", [2]), b.buffer("bn.running_mean", [2]), b.buffer("bn.running_var", [2]), { training: true });
  b.output("output", bn.y);
  b.output("new.bn.running_mean", bn.runningMean!);
  b.output("new.bn.running_var", bn.runningVar!);
  return b.build();
}

const hyper = { lr: 0.01, beta1: 0.85, beta2: 0.99, eps: 1e-5, weight_decay: 0.1, step: 3 };

function feedsFor(graph: Graph): Map<string, Feed> {
  const feeds = new Map<string, Feed>(Object.entries(hyper));
  for (const n of graph.nodes) {
    if (!isSource(n) || feeds.has(n.name)) continue;
    const t = wave(n.shape, n.id + 0.5);
    // second moments and variances must be non-negative
    if (n.name.startsWith("adam.v.") || n.name.endsWith("running_var")) t.data.forEach((v, i) => (t.data[i] = v * v));
    feeds.set(n.name, t);
  }
  return feeds;
}

const PARAMS = ["fc.weight", "fc.bias", "bn.weight", "bn.bias"];

describe("buildTrainStep", () => {
  test("inputs and outputs follow the naming contract", () => {
    const step = buildTrainStep(forward(), { optimizer: "adam" });
    verifyGraph(step, "train-step");
    const sources = step.nodes.filter(isSource).map((n) => `${n.op} ${n.name}`);
    expect(sources).toEqual([
      "input x", "param fc.weight", "param fc.bias", "param bn.weight", "param bn.bias", "buffer bn.running_mean", "buffer bn.running_var",
      "input target", "scalar lr", "scalar beta1", "scalar beta2", "scalar eps", "scalar weight_decay", "scalar step",
      ...PARAMS.flatMap((p) => [`buffer adam.m.${p}`, `buffer adam.v.${p}`]),
    ]);
    expect(step.outputs.map((o) => o.name)).toEqual([
      "output", "new.bn.running_mean", "new.bn.running_var", "loss",
      ...PARAMS.flatMap((p) => [`grad.${p}`, `new.${p}`, `new.adam.m.${p}`, `new.adam.v.${p}`]),
    ]);
    expect(formatOpCounts(opCounts(step))).toMatchInlineSnapshot(`"# 150 ops: 47 mul, 27 add, 13 div, 11 reshape, 10 sub, 9 fill, 6 square, 5 reduce_sum, 5 sqrt, 3 broadcast_to, 3 reduce_mean, 3 transpose, 2 exp, 2 log, 2 matmul, 1 neg, 1 rsqrt"`);
  });

  test("loss is the MSE of output vs target and grad.<p> its gradient", () => {
    const step = buildTrainStep(forward(), { optimizer: "adam" });
    const feeds = feedsFor(step);
    const out = runGraph(step, feeds, { precision: "f64" }).outputs;
    const fwd = runGraph(forward(), feeds, { precision: "f64" }).outputs;
    const target = feeds.get("target") as Tensor;
    const mse = Array.from(fwd.output.data).reduce((acc, v, i) => acc + (v - target.data[i]) ** 2, 0) / target.data.length;
    expect(out.loss.data[0]).toBeCloseTo(mse, 14);
    expect(Array.from(out["new.bn.running_mean"].data)).toEqual(Array.from(fwd["new.bn.running_mean"].data));

    // central differences of the loss in a few coordinates of every parameter
    const lossAt = (name: string, i: number, delta: number): number => {
      const p = feeds.get(name) as Tensor;
      const moved = Float64Array.from(p.data);
      moved[i] += delta;
      return runGraph(step, new Map([...feeds, [name, { shape: p.shape, data: moved }]]), { precision: "f64" }).outputs.loss.data[0];
    };
    for (const name of PARAMS) {
      for (const i of [0, 1]) {
        const numeric = (lossAt(name, i, 1e-6) - lossAt(name, i, -1e-6)) / 2e-6;
        expect(out[`grad.${name}`].data[i]).toBeCloseTo(numeric, 7);
      }
    }
  });

  test.each(["adam", "adamw"] as const)("%s update matches torch.optim formulas", (optimizer) => {
    const step = buildTrainStep(forward(), { optimizer });
    const feeds = feedsFor(step);
    const out = runGraph(step, feeds, { precision: "f64" }).outputs;
    const { lr, beta1, beta2, eps, weight_decay: wd, step: t } = hyper;
    for (const name of PARAMS) {
      const p = (feeds.get(name) as Tensor).data;
      const m = (feeds.get(`adam.m.${name}`) as Tensor).data;
      const v = (feeds.get(`adam.v.${name}`) as Tensor).data;
      const grad = out[`grad.${name}`].data;
      p.forEach((p0, i) => {
        // torch/optim/adam.py and adamw.py (_single_tensor_*), step already incremented to t
        const g = optimizer === "adam" ? grad[i] + wd * p0 : grad[i];
        const decayed = optimizer === "adamw" ? p0 * (1 - lr * wd) : p0;
        const m1 = beta1 * m[i] + (1 - beta1) * g;
        const v1 = beta2 * v[i] + (1 - beta2) * g * g;
        const stepSize = lr / (1 - beta1 ** t);
        const denom = Math.sqrt(v1) / Math.sqrt(1 - beta2 ** t) + eps;
        expect(out[`new.adam.m.${name}`].data[i]).toBeCloseTo(m1, 14);
        expect(out[`new.adam.v.${name}`].data[i]).toBeCloseTo(v1, 14);
        expect(out[`new.${name}`].data[i]).toBeCloseTo(decayed - stepSize * (m1 / denom), 12);
      });
    }
  });

  test("float32 run of the step", () => {
    const step = buildTrainStep(forward(), { optimizer: "adamw" });
    const out = runGraph(step, feedsFor(step)).outputs;
    expect(out["new.fc.weight"].data).toBeInstanceOf(Float32Array);
    expect(Number.isFinite(out.loss.data[0])).toBe(true);
  });

  test("clear errors for a forward graph without the expected output or with a mismatched target", () => {
    expect(() => buildTrainStep(forward(), { optimizer: "adam", output: "pred" })).toThrow("the forward graph has no output 'pred'");
    const b = new GraphBuilder();
    b.output("output", b.mul(b.param("w", [2]), b.input("x", [2])));
    b.input("target", [3]);
    expect(() => buildTrainStep(b.build(), { optimizer: "adam" })).toThrow("target 'target' is f32[3] but 'output' is f32[2]");
  });
});

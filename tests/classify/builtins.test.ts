// The classifier builtins of the .unet language: flatten, mean_pool and tap. Their shapes, FLOPs and
// errors at check time, and their lowering: a tap is a named graph output in eval mode only, with the
// values of the tapped layer (on WebGPU too); a model that returns a vector is a classifier.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { modelTask, modelTotals, type ModelGraph } from "../../compiler/check/model-graph.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { lowerModel } from "../../compiler/passes/lower/lower.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { runGraph } from "../../runtime/reference/interpreter.js";
import { initParameters } from "../../runtime/session/init.js";
import { WebGpuRunner } from "../../runtime/session/runner.js";
import { compileGraph } from "../../compiler/compile.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const PATH = "tests/classify/builtins.unet";

function spec(body: string, input = "image[2, 4, 6]"): string {
  return `version 1\nmodel m() {\n  input x: ${input}\n  ${body.trim().split("\n").join("\n  ")}\n}\n`;
}

function check(body: string, input?: string) {
  return checkSpec(PATH, { text: spec(body, input) });
}

function model(body: string, input?: string): ModelGraph {
  const r = check(body, input);
  if (!r.graph) throw new Error(renderDiagnostics(r.diagnostics));
  return r.graph;
}

const layer = (g: ModelGraph, op: string, nth = 0) => g.nodes.filter((n) => n.op === op)[nth];

function randomInput(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.uniform() - 1) };
}

/** Runs the lowered model on the reference interpreter with freshly initialised parameters. */
function runModel(g: ModelGraph, batch: number, mode: "train" | "eval", x: Tensor): Record<string, Tensor> {
  const graph = lowerModel(g, { batch, mode });
  verifyGraph(graph, `lower (${mode})`);
  const feeds = new Map<string, Tensor>(initParameters(g, 3));
  feeds.set("x", x);
  return runGraph(graph, feeds).outputs;
}

describe("flatten, mean_pool and tap at check time", () => {
  it("give per-sample shapes and FLOPs", () => {
    const g = model(`
      h = conv2d(x, 3) as conv
      f = flatten(h)
      p = mean_pool(h)
      t = mean_pool(rearrange(h, "c h w -> (h w) c"))
      return tap(linear(p, 5) as head) + linear(f, 5) as head2 + linear(t, 5) as head3
    `);
    expect(layer(g, "flatten").shape).toEqual([3 * 4 * 6]);
    expect(layer(g, "flatten").flops).toBe(0);
    expect(layer(g, "mean_pool").shape).toEqual([3]);
    expect(layer(g, "mean_pool").flops).toBe(3 * 4 * 6); // one add per element (the divide is per channel)
    expect(layer(g, "mean_pool", 1).shape).toEqual([3]); // tokens [24, 3] -> [3]
    expect(layer(g, "mean_pool", 1).flops).toBe(24 * 3);
    expect(layer(g, "tap")).toMatchObject({ shape: [5], flops: 0, attrs: { name: "features" } });
    expect(g.nodes[g.output].shape).toEqual([5]);
    expect(modelTotals(g).parameters).toBe(3 * 2 * 9 + 3 + 3 * 5 + 5 + 72 * 5 + 5 + 3 * 5 + 5);
  });

  it("flatten takes tokens and vectors too", () => {
    const g = model(`return flatten(flatten(rearrange(x, "c h w -> (h w) c")))`);
    expect(g.nodes.filter((n) => n.op === "flatten").map((n) => n.shape)).toEqual([[48], [48]]);
  });

  it("mean_pool of a vector is E0306 (wrong tensor kind), naming both kinds", () => {
    const r = check(`return mean_pool(flatten(x))`);
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0306"]);
    expect(r.diagnostics[0].message).toBe("mean_pool works on tokens [S, C] or image [C, H, W], found vector [48]");
  });

  it.each([["output"], ["loss"], ["2x"], ["a.b"], [""]])('a tap named "%s" is an error at the name', (name) => {
    const text = spec(`return tap(mean_pool(x), "${name}")`);
    const r = checkSpec(PATH, { text });
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0201"]);
    const d = r.diagnostics[0];
    expect(d.message).toContain(`found "${name}"`);
    expect(text.slice(d.span!.start, d.span!.end)).toBe(`"${name}"`);
  });

  it("two taps with one name are E0309, pointing at both", () => {
    const text = spec(`
      a = tap(mean_pool(x), "f")
      b = tap(flatten(mean_pool(x)), "f")
      return a + b
    `);
    const r = checkSpec(PATH, { text });
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0309"]);
    const d = r.diagnostics[0];
    expect(text.slice(d.span!.start, d.span!.end)).toBe(`tap(flatten(mean_pool(x)), "f")`);
    expect(d.secondary?.map((s) => text.slice(s.span.start, s.span.end))).toEqual([`tap(mean_pool(x), "f")`]);
  });

  it("a tap inside a block called twice is a duplicate too", () => {
    const r = checkSpec(PATH, {
      text: `version 1\nblock pool(x: tensor) {\n  return tap(mean_pool(x), "f")\n}\nmodel m() {\n  input x: image[2, 4, 4]\n  return pool(x) + pool(x)\n}\n`,
    });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0309"]);
  });

  it("taps with different names are fine", () => {
    const g = model(`
      a = tap(mean_pool(x), "f1")
      return tap(a + a, "f2")
    `);
    expect(g.nodes.filter((n) => n.op === "tap").map((n) => n.attrs.name)).toEqual(["f1", "f2"]);
  });
});

describe("the model's task", () => {
  it("is classify for a vector output and denoise for an image", () => {
    expect(modelTask(model(`return linear(mean_pool(x), 3) as head`))).toBe("classify");
    expect(modelTask(model(`return conv2d(x, 2) as conv`))).toBe("denoise");
    expect(modelTask(model(`return flatten(x)`))).toBe("classify"); // any vector: logits of 48 classes
  });
});

describe("lowering", () => {
  const B = 3;
  const C = 2;
  const H = 4;
  const W = 6;

  it("eval mode: `features` is the mean over the pixels of the tapped image, rows per sample", () => {
    const g = model(`
      h = tap(conv2d(x, 3) as conv, "image")
      h = tap(mean_pool(h))
      return linear(h, 5) as head
    `);
    const graph = lowerModel(g, { batch: B, mode: "eval" });
    expect(graph.outputs.map((o) => o.name)).toEqual(["image", "features", "output"]);
    const x = randomInput([B, C, H, W], 1);
    const out = runModel(g, B, "eval", x);
    expect(out.image.shape).toEqual([B, 3, H, W]);
    expect(out.features.shape).toEqual([B, 3]);
    expect(out.output.shape).toEqual([B, 5]);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let p = 0; p < H * W; p++) s += out.image.data[(b * 3 + c) * H * W + p];
        expect(out.features.data[b * 3 + c]).toBeCloseTo(s / (H * W), 6);
      }
    }
  });

  it("eval mode: mean_pool of tokens is the mean over tokens; flatten keeps channels outermost", () => {
    const g = model(`
      t = tap(mean_pool(rearrange(x, "c h w -> (h w) c")), "tokens")
      f = tap(flatten(x), "flat")
      return t + mean_pool(x)
    `);
    const x = randomInput([B, C, H, W], 2);
    const out = runModel(g, B, "eval", x);
    expect(Array.from(out.flat.data)).toEqual(Array.from(x.data)); // [B, C*H*W] is x's memory
    for (let i = 0; i < B * C; i++) {
      let s = 0;
      for (let p = 0; p < H * W; p++) s += x.data[i * H * W + p];
      expect(out.tokens.data[i]).toBeCloseTo(s / (H * W), 6);
      expect(out.output.data[i]).toBeCloseTo((2 * s) / (H * W), 6);
    }
  });

  it("train mode has no tap outputs (BatchNorm's running statistics still come out)", () => {
    const g = model(`
      h = batchnorm(conv2d(x, 3) as conv) as norm
      return linear(tap(mean_pool(h)), 5) as head
    `);
    const train = lowerModel(g, { batch: B, mode: "train" });
    expect(train.outputs.map((o) => o.name)).toEqual(["new.norm.running_mean", "new.norm.running_var", "new.norm.num_batches_tracked", "output"]);
    const evalGraph = lowerModel(g, { batch: B, mode: "eval" });
    expect(evalGraph.outputs.map((o) => o.name)).toEqual(["features", "output"]);
    // The tap changes nothing: both modes' logits equal those of the same model without it.
    const plain = model(`
      h = batchnorm(conv2d(x, 3) as conv) as norm
      return linear(mean_pool(h), 5) as head
    `);
    const x = randomInput([B, C, H, W], 3);
    for (const mode of ["train", "eval"] as const) {
      expect(Array.from(runModel(g, B, mode, x).output.data)).toEqual(Array.from(runModel(plain, B, mode, x).output.data));
    }
  });

  it("values the same for every sample (made of parameters) flatten, pool and tap with a row per sample", () => {
    const g = model(`
h = linear(mean_pool(x), 6) as head
b = flatten(param([2, 3]) as p)
c = mean_pool(param([6, 2, 2]) as q)
return h + b + tap(c, "features")`);
    const out = runModel(g, 3, "eval", randomInput([3, 2, 4, 6], 9));
    expect(out.output.shape).toEqual([3, 6]);
    expect(out.features.shape).toEqual([3, 6]);
    const rows = [0, 1, 2].map((i) => Array.from(out.features.data.subarray(i * 6, i * 6 + 6)));
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
  });

  it("a tap of the model's output is a second output with the same values", () => {
    const g = model(`return tap(linear(mean_pool(x), 4) as head, "logits")`);
    const out = runModel(g, B, "eval", randomInput([B, C, H, W], 4));
    expect(out.logits.shape).toEqual([B, 4]);
    expect(Array.from(out.logits.data)).toEqual(Array.from(out.output.data));
  });
});

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`taps on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  // Taps in the middle of fusable elementwise chains and of reshapes (flatten aliases its input's
  // memory) must still come out with their own values.
  it("every tap equals the reference interpreter's", async () => {
    if (typeof gpu === "string") return;
    const g = model(`
      h = conv2d(x, 3) as conv
      a = tap(relu(h), "act")
      s = tap(a * 2 + 1, "scaled")
      f = tap(flatten(s), "flat")
      p = tap(mean_pool(silu(s)))
      return linear(p, 4) as head + linear(f, 4) as head2
    `);
    const B = 3;
    const graph = lowerModel(g, { batch: B, mode: "eval" });
    const feeds = new Map<string, Tensor>(initParameters(g, 5));
    feeds.set("x", randomInput([B, 2, 4, 6], 6));
    const ref = runGraph(graph, feeds).outputs;
    const runner = await WebGpuRunner.create(gpu, compileGraph(graph, deviceTarget(gpu)));
    try {
      for (const [name, t] of feeds) runner.write(name, t);
      runner.run();
      for (const name of ["act", "scaled", "flat", "features", "output"]) {
        const got = await runner.read(name);
        expect(got.shape, name).toEqual(ref[name].shape);
        let diff = 0;
        for (let i = 0; i < got.data.length; i++) diff = Math.max(diff, Math.abs(got.data[i] - ref[name].data[i]));
        expect(diff, name).toBeLessThan(1e-5);
      }
    } finally {
      runner.destroy();
    }
  });
});

// The FID feature extractor on a tiny classifier checkpoint (trained here for one epoch): its
// features and logits equal the eval graph run directly with the checkpoint's weights, in any
// batching, and on WebGPU; checkpoints it cannot use are refused with a CheckpointError. Also the resizing of
// samples to the classifier's size and how Fashion-MNIST is fitted to a model's size.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { lowerModel } from "../../compiler/passes/lower/lower.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { FeatureExtractor, FEATURES_TAP, resizeForClassifier } from "../../runtime/metrics/classifier.js";
import { fashionFit } from "../../runtime/metrics/reference.js";
import { runGraph } from "../../runtime/reference/interpreter.js";
import { initParameters } from "../../runtime/session/init.js";
import { CHECKPOINT_FILE, CheckpointError, readCheckpoint, writeCheckpoint, type CheckpointMeta, type SpecInfo } from "../../runtime/train/checkpoint.js";
import { fitData } from "../../runtime/train/data.js";
import { train } from "../../runtime/train/loop.js";
import { oneCycleState } from "../../runtime/train/onecycle.js";
import { getGpu } from "../webgpu/gpu-harness.js";
import { checkedModel, CLASSIFIER_PATH, CLASSIFIER_TEXT, classifierSpec, shapesData, shapesDataset, trainConfig } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-features-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const model = checkedModel(CLASSIFIER_TEXT);
const DIM = 8; // the spec's width: mean_pool of 8 channels
const PER = 64; // 1 x 8 x 8
let weightsPath = "";
let weights: Map<string, Tensor>;

beforeAll(async () => {
  // One epoch, so BatchNorm's running statistics and every weight differ from their initial values.
  const out = join(tmp, "run");
  await train({ model, spec: classifierSpec(), config: trainConfig({ epochs: 1 }), data: shapesData(4, 1), device: "reference", out });
  weightsPath = join(out, CHECKPOINT_FILE);
  const ckpt = await readCheckpoint(weightsPath);
  weights = new Map(model.parameters.map((p) => [p.name, { shape: [...p.shape], data: Float32Array.from(ckpt.tensors.get(p.name)!.data) }]));
});

/** Seeded images [count, 1, 8, 8] in [-1, 1]. */
function images(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count * PER }, () => 2 * rng.uniform() - 1);
}

/** The eval graph for `count` images, run on the reference interpreter with the checkpoint's weights. */
function direct(x: Float32Array, count: number): Record<string, Tensor> {
  const graph = lowerModel(model, { batch: count, mode: "eval" });
  return runGraph(graph, new Map<string, Tensor>([...weights, ["x", { shape: [count, 1, 8, 8], data: x }]])).outputs;
}

describe("FeatureExtractor on a tiny classifier checkpoint", () => {
  it("reads the classifier's input, feature size and id from the checkpoint file", async () => {
    const fx = await FeatureExtractor.load({ device: "reference", weights: weightsPath, batch: 8 });
    try {
      expect(fx.dim).toBe(DIM);
      expect(fx.input).toEqual({ channels: 1, size: 8 });
      expect(fx.batch).toBe(8);
      expect(fx.id).toBe(createHash("sha256").update(readFileSync(weightsPath)).digest("hex").slice(0, 16));
      expect(fx.model.name).toBe("tiny_classifier");
    } finally {
      fx.destroy();
    }
  });

  it("features and logits equal the eval graph's, for a count that is not a multiple of the batch", async () => {
    const N = 11;
    const x = images(N, 1);
    const want = direct(x, N);
    expect(want[FEATURES_TAP].shape).toEqual([N, DIM]);
    const fx = await FeatureExtractor.load({ device: "reference", weights: weightsPath, batch: 8 });
    try {
      const f = await fx.features(x, N);
      expect(f.length).toBe(N * DIM);
      expect(Array.from(f)).toEqual(Array.from(want[FEATURES_TAP].data));
      const logits = await fx.logits(x, N);
      expect(Array.from(logits)).toEqual(Array.from(want.output.data));
      // The features are the mean over pixels of relu(batchnorm(conv)): non-negative, not all zero.
      expect(f.every((v) => v >= 0)).toBe(true);
      expect(f.some((v) => v > 0)).toBe(true);
    } finally {
      fx.destroy();
    }
  });

  it("batches of 8, of 3 and one image at a time give the same rows", async () => {
    const N = 11;
    const x = images(N, 2);
    const [by8, by3] = await Promise.all([8, 3].map((batch) => FeatureExtractor.load({ device: "reference", weights: weightsPath, batch })));
    try {
      const all = await by8.features(x, N);
      expect(Array.from(await by3.features(x, N))).toEqual(Array.from(all));
      for (let i = 0; i < N; i++) {
        const one = await by8.features(x.slice(i * PER, (i + 1) * PER), 1);
        expect(Array.from(one), `image ${i}`).toEqual(Array.from(all.subarray(i * DIM, (i + 1) * DIM)));
      }
      // Earlier batches leave nothing behind: the first rows again, after a full batch.
      expect(Array.from(await by8.features(x.slice(0, 2 * PER), 2))).toEqual(Array.from(all.subarray(0, 2 * DIM)));
    } finally {
      by8.destroy();
      by3.destroy();
    }
  });

  it("refuses images of the wrong size", async () => {
    const fx = await FeatureExtractor.load({ device: "reference", weights: weightsPath, batch: 4 });
    try {
      await expect(fx.features(new Float32Array(3 * PER + 1), 3)).rejects.toThrow(/expected 3 images of 64 values, got 193 values/);
    } finally {
      fx.destroy();
    }
  });
});

describe("the committed classifier spec", () => {
  it("checks as a classifier of 1x32x32 images with a vector `features` tap before its 10-way head", () => {
    const r = checkSpec("models/metrics/fmnist_classifier.unet");
    if (!r.graph) throw new Error(renderDiagnostics(r.diagnostics));
    const g = r.graph;
    expect(modelTask(g)).toBe("classify");
    expect(g.inputs.map((i) => [i.name, i.kind, i.shape])).toEqual([["x", "image", [1, 32, 32]]]);
    expect(g.nodes[g.output].shape).toEqual([10]);
    const tap = g.nodes.find((n) => n.op === "tap")!;
    expect(tap).toMatchObject({ shape: [128], attrs: { name: FEATURES_TAP } });
    expect(g.nodes[g.output].inputs).toEqual([tap.id]); // the head reads the tap
    expect(lowerModel(g, { batch: 2, mode: "eval" }).outputs.map((o) => o.name)).toEqual([FEATURES_TAP, "output"]);
  });
});

describe("checkpoints FeatureExtractor refuses", () => {
  /** A checkpoint of a freshly initialised model of `text`. */
  async function writeFresh(name: string, text: string, m: ModelGraph, specPath = CLASSIFIER_PATH, model = m.name): Promise<string> {
    const spec: SpecInfo = { path: specPath, source: text, sha256: "", sourcesSha256: "", model, overrides: [] };
    const meta: CheckpointMeta = {
      spec,
      config: trainConfig(),
      position: { step: 0, epoch: 0, batchInEpoch: 0, rngState: 0, epochLossSum: 0, epochLossSteps: 0 },
      schedule: oneCycleState({ maxLr: 0.1, totalSteps: 1 }),
      classNames: ["a", "b", "c", "d"],
      modelConfig: m.config,
      device: "reference",
    };
    const path = join(tmp, `${name}.safetensors`);
    await writeCheckpoint(path, initParameters(m, 1), meta);
    return path;
  }

  it("a missing file", async () => {
    const p = join(tmp, "nothing-here.safetensors");
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(CheckpointError);
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(/weights are missing/);
  });

  it("a denoiser", async () => {
    const text = `version 1\nmodel den() {\n  input x: image[1, 8, 8]\n  input t: timestep\n  return tap(conv2d(x, 1) as conv, "features")\n}\n`;
    const p = await writeFresh("denoiser", text, checkedModel(text));
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(/den is not a classifier/);
  });

  it("a classifier without a vector tap named features", async () => {
    const noTap = CLASSIFIER_TEXT.replace(`tap(mean_pool(h), "features")`, `tap(mean_pool(h), "penultimate")`);
    const p = await writeFresh("no-tap", noTap, checkedModel(noTap));
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(/has no vector tap named "features"/);
    const imageTap = CLASSIFIER_TEXT.replace(`h = tap(mean_pool(h), "features")`, `h = mean_pool(tap(h, "features"))`);
    const q = await writeFresh("image-tap", imageTap, checkedModel(imageTap));
    await expect(FeatureExtractor.load({ device: "reference", weights: q })).rejects.toThrow(/has no vector tap named "features"/);
  });

  it("a spec text that no longer checks", async () => {
    const broken = CLASSIFIER_TEXT.replace("mean_pool(h)", "mean_pool(flatten(h))");
    const p = await writeFresh("broken", broken, model, CLASSIFIER_PATH, "tiny_classifier");
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(/no longer checks/);
  });

  it("weights that do not match the spec", async () => {
    const wider = checkedModel(CLASSIFIER_TEXT, ["width=4"]);
    const p = await writeFresh("mismatch", CLASSIFIER_TEXT, wider);
    await expect(FeatureExtractor.load({ device: "reference", weights: p })).rejects.toThrow(/conv.weight` has shape \[4, 1, 3, 3\] in the checkpoint; the spec needs \[8, 1, 3, 3\]/);
  });
});

describe("resizeForClassifier", () => {
  const ramp = (count: number, channels: number, size: number) => Float32Array.from({ length: count * channels * size * size }, (_, i) => i);

  it("returns images already at the classifier's size as they are", () => {
    const x = ramp(2, 1, 32);
    expect(resizeForClassifier(x, 2, 1, 32, 32)).toBe(x);
  });

  it("upsamples 16 -> 32 by repeating each pixel 2x2", () => {
    const x = ramp(2, 3, 16);
    const y = resizeForClassifier(x, 2, 3, 16, 32);
    expect(y.length).toBe(2 * 3 * 32 * 32);
    for (let p = 0; p < 2 * 3; p++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) expect(y[p * 1024 + r * 32 + c]).toBe(x[p * 256 + Math.floor(r / 2) * 16 + Math.floor(c / 2)]);
      }
    }
  });

  it("upsamples 8 -> 32 by repeating each pixel 4x4", () => {
    const x = Float32Array.of(...Array.from({ length: 64 }, (_, i) => i));
    const y = resizeForClassifier(x, 1, 1, 8, 32);
    expect(Array.from(y.subarray(0, 32))).toEqual(Array.from({ length: 32 }, (_, c) => Math.floor(c / 4)));
    expect(y[31 * 32 + 31]).toBe(63);
  });

  it("downsamples 64 -> 32 by averaging 2x2 blocks", () => {
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 2 * 64 * 64 }, () => rng.uniform());
    const y = resizeForClassifier(x, 1, 2, 64, 32);
    expect(y.length).toBe(2 * 32 * 32);
    for (let p = 0; p < 2; p++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const at = (dy: number, dx: number) => x[p * 4096 + (2 * r + dy) * 64 + 2 * c + dx];
          expect(y[p * 1024 + r * 32 + c]).toBeCloseTo((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4, 6);
        }
      }
    }
  });

  it.each([[24], [48], [20]])("refuses %i -> 32 (neither divides the other) with a CheckpointError", (size) => {
    const x = new Float32Array(size * size);
    expect(() => resizeForClassifier(x, 1, 1, size, 32)).toThrow(CheckpointError);
    expect(() => resizeForClassifier(x, 1, 1, size, 32)).toThrow(`these are ${size}x${size}`);
  });
});

describe("fashionFit", () => {
  it.each([
    [32, 2, 1],
    [16, 2, 2],
    [28, 0, 1],
    [8, 2, 4],
    [64, 18, 1],
  ])("size %i: pad %i, pool %i", (size, pad, pool) => {
    expect(fashionFit(size)).toEqual({ pad, pool });
  });

  it("fits Fashion-MNIST as training does (fitData on 28x28 images)", () => {
    const fmnistLike = { ...shapesData(1, 1), train: { ...shapesDataset(1, 1, 28) } };
    for (const size of [8, 16, 32]) {
      const m = checkedModel(CLASSIFIER_TEXT, [`size=${size}`]);
      const fit = fitData(m, fmnistLike, "cosine");
      expect({ pad: fit.pad, pool: fit.pool }, `size ${size}`).toEqual(fashionFit(size));
    }
  });
});

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`FeatureExtractor on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("gives the reference device's features and logits", async () => {
    if (typeof gpu === "string") return;
    const N = 7;
    const x = images(N, 9);
    const want = direct(x, N);
    const fx = await FeatureExtractor.load({ device: "webgpu", weights: weightsPath, batch: 4 });
    try {
      const close = (got: Float32Array, ref: ArrayLike<number>, what: string) => {
        let diff = 0;
        for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - ref[i]));
        expect(diff, what).toBeLessThan(1e-5);
      };
      close(await fx.features(x, N), want[FEATURES_TAP].data, "features");
      close(await fx.logits(x, N), want.output.data, "logits");
    } finally {
      fx.destroy();
    }
  });
});

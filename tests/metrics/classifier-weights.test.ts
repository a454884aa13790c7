// The committed FID classifier: small enough to commit, trained from the spec in models/metrics,
// and as accurate as the issue asks: at least 92% on the 10,000 test images (92.28% when it was
// trained, stored in the file), re-measured here through the FID feature path on the reference
// interpreter (about 13 s).
import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadFashionMnist, splitFashionMnist } from "../../runtime/data/fashion-mnist.js";
import { iterateBatches } from "../../runtime/data/batches.js";
import { readSafetensorsFile } from "../../runtime/io/safetensors.js";
import { CLASSIFIER_WEIGHTS, FeatureExtractor } from "../../runtime/metrics/classifier.js";
import { classificationScores } from "../../runtime/train/classify.js";
import { CLASSIFIER_RANGE } from "../../runtime/train/data.js";

describe("models/metrics/fmnist_classifier.safetensors", () => {
  it("is at most 5 MB, holds only the model's tensors, and was trained from the spec in models/metrics", async () => {
    expect(statSync(CLASSIFIER_WEIGHTS).size).toBeLessThanOrEqual(5 * 1024 * 1024);
    const file = await readSafetensorsFile(CLASSIFIER_WEIGHTS);
    expect([...file.tensors.keys()].some((k) => k.startsWith("adam."))).toBe(false);
    expect(Number(file.metadata.eval_accuracy)).toBeGreaterThanOrEqual(0.92);
    expect(file.metadata.spec_source).toBe(readFileSync("models/metrics/fmnist_classifier.unet", "utf8"));
  });

  it("classifies the 10,000 held-out Fashion-MNIST images with at least 92% accuracy", { timeout: 300_000 }, async () => {
    const fx = await FeatureExtractor.load({ device: "reference", batch: 250 });
    try {
      const { dataset } = await loadFashionMnist({});
      const test = splitFashionMnist(dataset).test;
      let correct = 0;
      for (const b of iterateBatches(test, { batchSize: 250, seed: 0, epoch: 0, shuffle: false, dropLast: false, pad: 2, range: CLASSIFIER_RANGE })) {
        correct += classificationScores(await fx.logits(b.x, b.size), b.labels, b.size, 10).correct;
      }
      expect(test.count).toBe(10_000);
      expect(correct / test.count).toBeGreaterThanOrEqual(0.92);
    } finally {
      fx.destroy();
    }
  });
});

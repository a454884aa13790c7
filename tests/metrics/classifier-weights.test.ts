// The committed FID classifier: small enough to commit, trained from the spec in models/metrics,
// and as accurate as it was when it was trained (91.45% on the 10,000 test images, stored in the
// file; re-measured here on the first 100 test images of each class, reference interpreter).
import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadFashionMnist, splitFashionMnist } from "../../runtime/data/fashion-mnist.js";
import { iterateBatches } from "../../runtime/data/batches.js";
import { subsetPerClass } from "../../runtime/data/split.js";
import { readSafetensorsFile } from "../../runtime/io/safetensors.js";
import { CLASSIFIER_WEIGHTS, FeatureExtractor } from "../../runtime/metrics/classifier.js";
import { classificationScores } from "../../runtime/train/classify.js";
import { CLASSIFIER_RANGE } from "../../runtime/train/data.js";

describe("models/metrics/fmnist_classifier.safetensors", () => {
  it("is at most 5 MB, holds only the model's tensors, and was trained from the spec in models/metrics", async () => {
    expect(statSync(CLASSIFIER_WEIGHTS).size).toBeLessThanOrEqual(5 * 1024 * 1024);
    const file = await readSafetensorsFile(CLASSIFIER_WEIGHTS);
    expect([...file.tensors.keys()].some((k) => k.startsWith("adam."))).toBe(false);
    expect(Number(file.metadata.eval_accuracy)).toBeGreaterThanOrEqual(0.91);
    expect(file.metadata.spec_source).toBe(readFileSync("models/metrics/fmnist_classifier.unet", "utf8"));
  });

  it("classifies held-out Fashion-MNIST images with at least 89% accuracy (1,000-image sample)", { timeout: 120_000 }, async () => {
    const fx = await FeatureExtractor.load({ device: "reference", batch: 250 });
    try {
      const { dataset } = await loadFashionMnist({});
      const test = subsetPerClass(splitFashionMnist(dataset).test, 100);
      let correct = 0;
      for (const b of iterateBatches(test, { batchSize: 250, seed: 0, epoch: 0, shuffle: false, dropLast: false, pad: 2, range: CLASSIFIER_RANGE })) {
        correct += classificationScores(await fx.logits(b.x, b.size), b.labels, b.size, 10).correct;
      }
      expect(correct / test.count).toBeGreaterThanOrEqual(0.89);
    } finally {
      fx.destroy();
    }
  });
});

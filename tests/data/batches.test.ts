import { describe, expect, it } from "vitest";
import { batchesPerEpoch, epochPermutation, iterateBatches } from "../../runtime/data/batches.js";
import { preprocess } from "../../runtime/data/preprocess.js";
import { syntheticDataset } from "./synthetic.js";

const ds = syntheticDataset(4, 25, 6, 6); // 100 images
const base = { batchSize: 16, seed: 42, epoch: 0, pad: 1, range: [-0.5, 0.5] as const };

describe("batches", () => {
  it("epoch order is a permutation reproducible from (seed, epoch)", () => {
    const p = epochPermutation(100, 42, 3);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochPermutation(100, 42, 3)).toEqual(p);
    expect(epochPermutation(100, 42, 4)).not.toEqual(p);
    expect(epochPermutation(100, 43, 3)).not.toEqual(p);
  });

  it("drops the last partial batch by default, keeps it on request", () => {
    expect(batchesPerEpoch(100, 16)).toBe(6);
    expect(batchesPerEpoch(100, 16, false)).toBe(7);
    expect([...iterateBatches(ds, base)].map((b) => b.size)).toEqual([16, 16, 16, 16, 16, 16]);
    const kept = [...iterateBatches(ds, { ...base, dropLast: false })];
    expect(kept.map((b) => b.size)).toEqual([16, 16, 16, 16, 16, 16, 4]);
    const seen = kept.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i)); // every image once per epoch
  });

  it("yields preprocessed [B, 1, H, W] images with their labels", () => {
    const [b] = iterateBatches(ds, base);
    expect(b.x.length).toBe(16 * 8 * 8);
    const expected = preprocess(ds, base, b.indices);
    expect(b.x).toEqual(expected.data);
    expect(Array.from(b.labels)).toEqual(Array.from(b.indices, (i) => ds.labels[i]));
  });

  it("is the same on a rerun, and startBatch resumes mid-epoch", () => {
    const all = [...iterateBatches(ds, { ...base, epoch: 2 })];
    const again = [...iterateBatches(ds, { ...base, epoch: 2 })];
    expect(again.map((b) => Array.from(b.indices))).toEqual(all.map((b) => Array.from(b.indices)));
    const tail = [...iterateBatches(ds, { ...base, epoch: 2, startBatch: 4 })];
    expect(tail.map((b) => b.index)).toEqual([4, 5]);
    expect(tail[0].x).toEqual(all[4].x);
  });

  it("without shuffle iterates in dataset order", () => {
    const [b] = iterateBatches(ds, { ...base, shuffle: false });
    expect(Array.from(b.indices)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it("rejects a batch larger than the data", () => {
    expect(() => [...iterateBatches(ds, { ...base, batchSize: 101 })]).toThrow(/do not fill one batch/);
  });
});

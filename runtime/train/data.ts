// Training data for a model: Fashion-MNIST (the fixed 60,000 / 10,000 split) or a folder of
// PNGs (one subfolder per class; the last 10% of each class, at least one image when a class
// has two or more, is held out for evaluation), optionally cut to the first K images per class,
// and fitted to the model's input size:
//   images of HxH go to a model of SxS by zero padding to the smallest multiple of S at least H
//   (with an even difference: Fashion-MNIST 28 -> 32), then average pooling by that multiple.
//   The lesson's 32x32 is padding only; 16x16 is padding to 32 and 2x2 pooling.
// Values are scaled to the noise schedule's range (cosine [-0.5, 0.5], Karras [-1, 1]); a
// classifier sees [-1, 1], the range FID feeds it samples in (the course's to_tensor*2-1).
import { modelTask, type ModelGraph, type ModelInput } from "../../compiler/check/model-graph.js";
import { batchesPerEpoch, iterateBatches } from "../data/batches.js";
import { loadFashionMnist, splitFashionMnist } from "../data/fashion-mnist.js";
import { loadPngFolder } from "../data/png-folder.js";
import { subsetPerClass } from "../data/split.js";
import { DataError, indicesByClass, selectImages, type ImageDataset } from "../data/types.js";
import { SCHEDULE_DATA_RANGE, type ScheduleKind } from "../diffusion/schedules.js";

export interface DataOptions {
  /** "fashion-mnist" or a folder of PNGs. */
  readonly data: string;
  /** Keep the first K training images of each class. */
  readonly subset?: number;
  /** Keep the first K evaluation images of each class. */
  readonly evalSubset?: number;
  readonly cacheDir?: string;
  readonly onWarning?: (message: string) => void;
}

export interface TrainData {
  readonly train: ImageDataset;
  readonly test: ImageDataset;
  readonly classNames: readonly string[];
  /** Where the data came from, for logs and checkpoints. */
  readonly source: string;
}

/** How raw images become model inputs: pad, then pool by `pool`, scaled to `range`. */
export interface Fit {
  readonly pad: number;
  readonly pool: number;
  readonly range: readonly [number, number];
  readonly channels: number;
  readonly size: number;
}

export async function loadTrainData(o: DataOptions): Promise<TrainData> {
  let train: ImageDataset;
  let test: ImageDataset;
  let source: string;
  if (o.data === "fashion-mnist") {
    const loaded = await loadFashionMnist({ cacheDir: o.cacheDir, onWarning: o.onWarning });
    ({ train, test } = splitFashionMnist(loaded.dataset));
    source = "fashion-mnist";
  } else {
    const all = await loadPngFolder(o.data);
    ({ train, test } = holdOut(all, 0.1));
    source = o.data;
  }
  if (o.subset !== undefined) train = subsetPerClass(train, o.subset);
  if (o.evalSubset !== undefined && test.count > 0) test = subsetPerClass(test, o.evalSubset);
  return { train, test, classNames: train.classNames, source };
}

/** The last `fraction` of each class (at least one image when the class has two) as test. */
function holdOut(ds: ImageDataset, fraction: number): { train: ImageDataset; test: ImageDataset } {
  const train: number[] = [];
  const test: number[] = [];
  for (const idx of indicesByClass(ds)) {
    const n = idx.length < 2 ? 0 : Math.max(1, Math.floor(idx.length * fraction));
    idx.forEach((i, k) => (k < idx.length - n ? train : test).push(i));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: selectImages(ds, train), test: selectImages(ds, test) };
}

/** A classifier's inputs: [-1, 1] (the course's classifier: to_tensor * 2 - 1). */
export const CLASSIFIER_RANGE: readonly [number, number] = [-1, 1];

export function imageInput(model: ModelGraph): ModelInput {
  const img = model.inputs.find((i) => i.kind === "image");
  if (!img) throw new DataError(`model ${model.name} has no image input, so it cannot be trained on images`);
  if (modelTask(model) === "classify") {
    const other = model.inputs.find((i) => i.kind !== "image");
    if (other) throw new DataError(`model ${model.name} returns class logits, so it is trained as a classifier of its image alone; it also takes a ${other.kind} input \`${other.name}\``);
  } else if (!model.inputs.some((i) => i.kind === "timestep")) {
    throw new DataError(`model ${model.name} returns an image but takes no timestep, so it cannot be trained as a denoiser (declare \`input t: timestep\`)`);
  }
  return img;
}

/** Checks the data against the model and works out padding and pooling. */
export function fitData(model: ModelGraph, data: TrainData, schedule: ScheduleKind): Fit {
  const img = imageInput(model);
  const [C, H, W] = img.shape;
  const ds = data.train;
  if (ds.count === 0) throw new DataError(`${data.source}: no training images`);
  if (ds.channels !== C) throw new DataError(`${data.source}: images have ${ds.channels} channel(s) but model ${model.name} takes ${C}`);
  if (H !== W) throw new DataError(`model ${model.name} takes ${H}x${W} images; only square images are supported`);
  if (ds.height !== ds.width) throw new DataError(`${data.source}: images are ${ds.height}x${ds.width}; only square images are supported`);
  const label = model.inputs.find((i) => i.kind === "label");
  const logits = modelTask(model) === "classify" ? model.nodes[model.output].shape[0] : undefined;
  if (logits !== undefined && logits !== data.classNames.length) {
    throw new DataError(`classifier ${model.name} returns ${logits} logits but ${data.source} has ${data.classNames.length} classes (${data.classNames.join(", ")})`);
  }
  if (label && label.classes !== data.classNames.length) {
    throw new DataError(
      `model ${model.name} takes ${label.classes} classes but ${data.source} has ${data.classNames.length} (${data.classNames.join(", ")}); set the model's class count to match (e.g. --set classes=${data.classNames.length})`,
    );
  }
  for (let k = 1; k <= 64; k++) {
    const target = H * k;
    if (target >= ds.height && (target - ds.height) % 2 === 0) {
      const range = modelTask(model) === "classify" ? CLASSIFIER_RANGE : SCHEDULE_DATA_RANGE[schedule];
      return { pad: (target - ds.height) / 2, pool: k, range, channels: C, size: H };
    }
  }
  throw new DataError(`${data.source}: ${ds.height}x${ds.width} images cannot be padded and pooled to the model's ${H}x${W}`);
}

/** Average pooling by `k` of [B, C, k*S, k*S] into `out` [B, C, S, S]. */
export function avgPool(x: Float32Array, batch: number, channels: number, size: number, k: number, out: Float32Array): Float32Array {
  if (k === 1) {
    out.set(x);
    return out;
  }
  const big = size * k;
  const inv = 1 / (k * k);
  for (let p = 0; p < batch * channels; p++) {
    const src = p * big * big;
    const dst = p * size * size;
    for (let y = 0; y < size; y++) {
      for (let x0 = 0; x0 < size; x0++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) {
          const row = src + (y * k + dy) * big + x0 * k;
          for (let dx = 0; dx < k; dx++) s += x[row + dx];
        }
        out[dst + y * size + x0] = s * inv;
      }
    }
  }
  return out;
}

export interface FittedBatch {
  readonly index: number;
  /** [B, C, S, S] in the schedule's range. */
  readonly x0: Float32Array;
  readonly labels: Int32Array;
}

/** One epoch's batches (seeded shuffle, last partial batch dropped), fitted to the model. */
export function* fittedBatches(
  ds: ImageDataset,
  fit: Fit,
  o: { batchSize: number; seed: number; epoch: number; startBatch?: number; shuffle?: boolean; dropLast?: boolean },
): Generator<FittedBatch> {
  for (const b of iterateBatches(ds, { ...o, pad: fit.pad, range: fit.range })) {
    const x0 = avgPool(b.x, b.size, fit.channels, fit.size, fit.pool, new Float32Array(b.size * fit.channels * fit.size * fit.size));
    yield { index: b.index, x0, labels: b.labels };
  }
}

export function stepsPerEpoch(ds: ImageDataset, batch: number): number {
  return batchesPerEpoch(ds.count, batch, true);
}

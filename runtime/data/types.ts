// The in-memory form of an image classification dataset, shared by the Fashion-MNIST loader,
// the PNG-folder loader, the split and the batch iterator.
import { UserError } from "../../compiler/diagnostics/user-error.js";

/** Raw 8-bit images with integer labels; images are stored [count, channels, height, width]. */
export interface ImageDataset {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Class names, indexed by label. */
  readonly classNames: readonly string[];
}

/** Bad or unreadable data: the message names the path and the problem; the CLI prints it as is. */
export class DataError extends UserError {}

export function imageSize(ds: Pick<ImageDataset, "channels" | "height" | "width">): number {
  return ds.channels * ds.height * ds.width;
}

/** Checks a dataset's arrays against its declared sizes (a guard against construction bugs). */
export function checkDataset(ds: ImageDataset): ImageDataset {
  const per = imageSize(ds);
  if (ds.images.length !== ds.count * per) {
    throw new DataError(`dataset: ${ds.images.length} pixel values for ${ds.count} images of ${per}`);
  }
  if (ds.labels.length !== ds.count) throw new DataError(`dataset: ${ds.labels.length} labels for ${ds.count} images`);
  for (let i = 0; i < ds.count; i++) {
    const l = ds.labels[i];
    if (l < 0 || l >= ds.classNames.length) {
      throw new DataError(`dataset: label ${l} of image ${i} is outside the ${ds.classNames.length} classes`);
    }
  }
  return ds;
}

/** A new dataset holding the images at `indices`, in that order. */
export function selectImages(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const per = imageSize(ds);
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i];
  }
  return { ...ds, images, labels, count: indices.length };
}

/** Indices of each class's images, in dataset order. */
export function indicesByClass(ds: ImageDataset): number[][] {
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  return byClass;
}

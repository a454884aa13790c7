// The recipe's preprocessing (LESSON.md §2): pad with zeros *before* scaling (so the border is
// black, i.e. the range's low end), then map 0..255 linearly onto [lo, hi]:
//   cosine: [-0.5, 0.5] = x/255 - 0.5        Karras: [-1, 1] = x/255*2 - 1
// (runtime/diffusion/schedules.ts SCHEDULE_DATA_RANGE names the range per schedule.)
import { DataError, imageSize, type ImageDataset } from "./types.js";

export interface PreprocessOptions {
  /** Zero pixels added on each side (Fashion-MNIST: 2, giving 32x32). Default 0. */
  readonly pad?: number;
  /** Output range [lo, hi] for pixel values 0 and 255. */
  readonly range: readonly [number, number];
}

/** Float images [count, channels, height, width] with their labels. */
export interface FloatImages {
  readonly data: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** A reusable converter: the padded shape and a 256-entry lookup table of the scaled values. */
export class Preprocessor {
  readonly pad: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  private readonly lut = new Float32Array(256);

  constructor(
    private readonly ds: ImageDataset,
    options: PreprocessOptions,
  ) {
    const pad = options.pad ?? 0;
    if (!Number.isInteger(pad) || pad < 0) throw new DataError(`preprocess: pad must be a non-negative integer, got ${pad}`);
    const [lo, hi] = options.range;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new DataError(`preprocess: bad range [${lo}, ${hi}]`);
    this.pad = pad;
    this.channels = ds.channels;
    this.height = ds.height + 2 * pad;
    this.width = ds.width + 2 * pad;
    for (let v = 0; v < 256; v++) this.lut[v] = (v / 255) * (hi - lo) + lo;
  }

  /** Values per output image. */
  get size(): number {
    return this.channels * this.height * this.width;
  }

  /** Writes image `index` of the dataset, padded and scaled, into `out` at `offset`. */
  writeImage(index: number, out: Float32Array, offset: number): void {
    const { ds, pad, height: H, width: W, lut } = this;
    const src = index * imageSize(ds);
    const background = lut[0];
    out.fill(background, offset, offset + this.size);
    for (let c = 0; c < ds.channels; c++) {
      for (let y = 0; y < ds.height; y++) {
        const s = src + (c * ds.height + y) * ds.width;
        const d = offset + (c * H + y + pad) * W + pad;
        for (let x = 0; x < ds.width; x++) out[d + x] = lut[ds.images[s + x]];
      }
    }
  }
}

/** Converts a whole dataset (or the images at `indices`) at once. */
export function preprocess(ds: ImageDataset, options: PreprocessOptions, indices?: ArrayLike<number>): FloatImages {
  const pre = new Preprocessor(ds, options);
  const count = indices ? indices.length : ds.count;
  const data = new Float32Array(count * pre.size);
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const i = indices ? indices[k] : k;
    pre.writeImage(i, data, k * pre.size);
    labels[k] = ds.labels[i];
  }
  return { data, labels, count, channels: pre.channels, height: pre.height, width: pre.width };
}

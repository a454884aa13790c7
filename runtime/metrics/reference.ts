// FID/KID against the Fashion-MNIST test split (10,000 images, the course's reference): the
// classifier's features of those images, fitted to the evaluated model's size and back to the
// classifier's (see resizeForClassifier), computed once per classifier and size and cached in
// .cache/fid/ (KID needs the features themselves, not only their mean and covariance).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic-write.js";
import { defaultCacheDir, loadFashionMnist, splitFashionMnist } from "../data/fashion-mnist.js";
import { iterateBatches } from "../data/batches.js";
import { avgPool } from "../train/data.js";
import { CLASSIFIER_RANGE } from "../train/data.js";
import { resizeForClassifier, type FeatureExtractor } from "./classifier.js";

const MAGIC = "UNETCREF";
// 2: features in a fixed shuffled order (version 1 kept the split's order). 3: a SHA-256 of the
// features after the 16-byte head, so a damaged file is recomputed instead of skewing FID.
const VERSION = 3;
const HEAD = 48;
/** KID averages MMD over consecutive chunks, so the reference rows must not come grouped by
 *  class (the split lists each class's images together): they are stored in this seeded order. */
const REFERENCE_ORDER_SEED = 0x72656673; // "refs"

export interface ReferenceFeatures {
  readonly count: number;
  readonly dim: number;
  readonly features: Float32Array;
  readonly path: string;
  readonly fromCache: boolean;
}

/** How a model of size `size` sees Fashion-MNIST: padded 28 -> the nearest multiple k*size, pooled by k. */
export function fashionFit(size: number): { pad: number; pool: number } {
  for (let k = 1; k <= 64; k++) {
    const t = size * k;
    if (t >= 28 && (t - 28) % 2 === 0) return { pad: (t - 28) / 2, pool: k };
  }
  throw new Error(`no padding and pooling fits 28x28 images to ${size}x${size}`);
}

export function encodeReferenceCache(f: Float32Array, count: number, dim: number): Uint8Array {
  const head = Buffer.alloc(HEAD);
  head.write(MAGIC, 0, "latin1");
  head.writeUInt16LE(VERSION, 8);
  head.writeUInt16LE(dim, 10);
  head.writeUInt32LE(count, 12);
  const body = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  createHash("sha256").update(body).digest().copy(head, 16);
  return Buffer.concat([head, body]);
}

/** The cached features, or undefined when the file is stale, truncated or damaged (then they are recomputed). */
export function decodeReferenceCache(bytes: Buffer): { count: number; dim: number; features: Float32Array } | undefined {
  if (bytes.length < HEAD || bytes.toString("latin1", 0, 8) !== MAGIC || bytes.readUInt16LE(8) !== VERSION) return undefined;
  const dim = bytes.readUInt16LE(10);
  const count = bytes.readUInt32LE(12);
  if (bytes.length !== HEAD + count * dim * 4) return undefined;
  if (!createHash("sha256").update(bytes.subarray(HEAD)).digest().equals(bytes.subarray(16, HEAD))) return undefined;
  const features = new Float32Array(count * dim);
  new Uint8Array(features.buffer).set(bytes.subarray(HEAD));
  return { count, dim, features };
}

/** The reference features for models of `size`x`size` (cached; a damaged cache file is rebuilt). */
export async function referenceFeatures(fx: FeatureExtractor, size: number, o: { cacheDir?: string; onInfo?: (line: string) => void } = {}): Promise<ReferenceFeatures> {
  const path = join(o.cacheDir ?? defaultCacheDir(), "fid", `reference-${fx.id}-${size}px.bin`);
  const cached = await readFile(path).then(decodeReferenceCache, () => undefined);
  if (cached && cached.dim === fx.dim) return { ...cached, path, fromCache: true };
  const { dataset } = await loadFashionMnist({ cacheDir: o.cacheDir });
  const test = splitFashionMnist(dataset).test;
  o.onInfo?.(`computing the classifier's features of the ${test.count} Fashion-MNIST test images at ${size}x${size} (cached in ${path}) ...`);
  const { pad, pool } = fashionFit(size);
  const C = fx.input.channels;
  const features = new Float32Array(test.count * fx.dim);
  const B = 1000;
  let done = 0;
  for (const b of iterateBatches(test, { batchSize: B, seed: REFERENCE_ORDER_SEED, epoch: 0, shuffle: true, dropLast: false, pad, range: CLASSIFIER_RANGE })) {
    const fitted = avgPool(b.x, b.size, C, size, pool, new Float32Array(b.size * C * size * size));
    const input = resizeForClassifier(fitted, b.size, C, size, fx.input.size);
    features.set(await fx.features(input, b.size), done * fx.dim);
    done += b.size;
  }
  await writeFileAtomic(path, encodeReferenceCache(features, test.count, fx.dim));
  return { count: test.count, dim: fx.dim, features, path, fromCache: false };
}

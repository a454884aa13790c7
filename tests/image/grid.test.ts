import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { encodeGridPng, toByte, writeGridPng } from "../../runtime/image/grid.js";

/** Decoded RGBA pixel (x, y). */
function pixel(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return Array.from(png.data.subarray(i, i + 4));
}

describe("image grid PNG", () => {
  // Three 2x2 grayscale images: image n pixel p is -1 + (n*4 + p)/6.
  const images = Float32Array.from({ length: 12 }, (_, i) => -1 + i / 6);

  it("lays out images with a 2px gap and maps [-1, 1] to 0..255", () => {
    const png = PNG.sync.read(encodeGridPng(images, { count: 3, channels: 1, height: 2, width: 2, cols: 2 }));
    expect([png.width, png.height]).toEqual([2 * 2 + 2, 2 * 2 + 2]);
    expect(pixel(png, 0, 0)).toEqual([0, 0, 0, 255]); // image 0 pixel 0: -1
    expect(pixel(png, 1, 1)[0]).toBe(toByte(-1 + 3 / 6, -1, 1)); // image 0 pixel 3
    expect(pixel(png, 4, 0)[0]).toBe(toByte(-1 + 4 / 6, -1, 1)); // image 1 starts at x = 2 + 2
    expect(pixel(png, 0, 4)[0]).toBe(toByte(-1 + 8 / 6, -1, 1)); // image 2: second row, y = 2 + 2
    expect(pixel(png, 1, 4)[0]).toBe(toByte(-1 + 9 / 6, -1, 1));
    expect(pixel(png, 1, 5)[0]).toBe(toByte(-1 + 11 / 6, -1, 1)); // image 2 pixel 3
    expect(pixel(png, 2, 0)).toEqual([255, 255, 255, 255]); // gap
    expect(pixel(png, 0, 3)[0]).toBe(255); // gap row
    expect(pixel(png, 4, 4)[0]).toBe(255); // the empty cell after the last image is background
  });

  it("maps [0, 1] on request and clamps both ends", () => {
    const data = Float32Array.of(-0.5, 0, 0.5, 2);
    const png = PNG.sync.read(encodeGridPng(data, { count: 1, channels: 1, height: 2, width: 2, range: [0, 1], gapValue: 0 }));
    expect([0, 1, 2, 3].map((k) => pixel(png, k % 2, Math.floor(k / 2))[0])).toEqual([0, 0, 128, 255]);
  });

  it("writes RGB images and rows of classes (cols = per class)", async () => {
    // 2 classes x 3 samples, 1x1 RGB: sample value v -> (v, 0, -v) in [-1, 1].
    const rgb = new Float32Array(6 * 3);
    for (let n = 0; n < 6; n++) rgb.set([n / 5, 0, -n / 5], n * 3);
    const path = join(await mkdtemp(join(tmpdir(), "unetc-grid-")), "out", "grid.png");
    await writeGridPng(path, rgb, { count: 6, channels: 3, height: 1, width: 1, cols: 3, gap: 1 });
    const png = PNG.sync.read(await readFile(path));
    expect([png.width, png.height]).toEqual([5, 3]);
    expect(pixel(png, 2, 2)).toEqual([toByte(4 / 5, -1, 1), 128, toByte(-4 / 5, -1, 1), 255]); // class 1, sample 1
    expect(pixel(png, 1, 0)).toEqual([255, 255, 255, 255]);
  });

  it("enlarges each image `scale` times (nearest); the gap stays as given", () => {
    const png = PNG.sync.read(encodeGridPng(images, { count: 3, channels: 1, height: 2, width: 2, cols: 2, scale: 3, gap: 1 }));
    expect([png.width, png.height]).toEqual([2 * 6 + 1, 2 * 6 + 1]);
    expect(pixel(png, 2, 2)[0]).toBe(0); // image 0 pixel 0 covers 3x3
    expect(pixel(png, 3, 0)[0]).toBe(toByte(-1 + 1 / 6, -1, 1)); // pixel 1 starts at x = 3
    expect(pixel(png, 6, 0)[0]).toBe(255); // the gap
    expect(pixel(png, 7, 0)[0]).toBe(toByte(-1 + 4 / 6, -1, 1)); // image 1
  });

  it("rejects a size mismatch", () => {
    expect(() => encodeGridPng(new Float32Array(5), { count: 2, channels: 1, height: 2, width: 2 })).toThrow(/5 values/);
  });
});

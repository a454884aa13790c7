import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { loadPngFolder } from "../../runtime/data/png-folder.js";
import { DataError } from "../../runtime/data/types.js";

/** A w x h RGBA PNG filled with one colour. */
function png(w: number, h: number, rgba: [number, number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) p.data.set(rgba, i * 4);
  return PNG.sync.write(p);
}

async function folder(files: Record<string, Buffer | string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "unetc-png-"));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

describe("PNG folder datasets", () => {
  it("reads one subfolder per class (sorted), converting to grayscale", async () => {
    const dir = await folder({
      "shoes/b.png": png(3, 2, [255, 255, 255, 255]),
      "shoes/a.png": png(3, 2, [255, 0, 0, 255]),
      "bags/x.PNG": png(3, 2, [0, 0, 255, 128]), // half transparent: composited over black
      "bags/notes.txt": "ignored",
      "bags/.hidden.png": "ignored",
      "readme.md": "ignored",
    });
    const ds = await loadPngFolder(dir);
    expect(ds.classNames).toEqual(["bags", "shoes"]);
    expect([ds.count, ds.channels, ds.height, ds.width]).toEqual([3, 1, 2, 3]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1]);
    expect(ds.images[0]).toBe(Math.round((0.114 * 255 * 128) / 255)); // bags/x.PNG
    expect(ds.images[6]).toBe(Math.round(0.299 * 255)); // shoes/a.png (sorted before b.png)
    expect(ds.images[12]).toBe(255); // shoes/b.png
  });

  it("reads grayscale and 16-bit PNGs", async () => {
    const gray = new PNG({ width: 2, height: 2 });
    gray.data = Buffer.from([10, 20, 30, 40]);
    const bytes = PNG.sync.write(gray, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
    const deep = new PNG({ width: 2, height: 2, bitDepth: 16 });
    deep.data = Buffer.from(new Uint16Array([1000, 65535, 0, 32768]).buffer);
    const opts16 = { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false } as const;
    const ds = await loadPngFolder(await folder({ "c/g.png": bytes, "c/h.png": PNG.sync.write(deep, opts16) }));
    expect(Array.from(ds.images)).toEqual([10, 20, 30, 40, 4, 255, 0, 128]); // 16-bit is rescaled to 8
  });

  const bad: [string, Record<string, Buffer | string>, RegExp][] = [
    ["an empty folder", {}, /no class subfolders/],
    ["a class without images", { "a/x.png": png(2, 2, [0, 0, 0, 255]), "b/readme.txt": "" }, /[/\\]b: no \.png images/],
    ["a file that is not a PNG", { "a/x.png": "hello" }, /[/\\]a[/\\]x\.png: not a readable PNG/],
    ["mixed sizes", { "a/x.png": png(2, 2, [0, 0, 0, 255]), "b/y.png": png(3, 2, [0, 0, 0, 255]) }, /y\.png: is 3x2 but .*x\.png is 2x2/],
  ];
  for (const [what, files, message] of bad) {
    it(`rejects ${what} with a DataError naming the path`, async () => {
      const dir = await folder(files);
      await expect(loadPngFolder(dir)).rejects.toThrow(DataError);
      await expect(loadPngFolder(dir)).rejects.toThrow(message);
    });
  }

  it("rejects a missing folder", async () => {
    await expect(loadPngFolder("/nonexistent/unetc-data")).rejects.toThrow(/\/nonexistent\/unetc-data: no such folder/);
  });
});

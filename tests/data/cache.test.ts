import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CacheError,
  decodeDatasetCache,
  encodeDatasetCache,
  loadOrBuildCache,
  writeDatasetCache,
} from "../../runtime/data/cache.js";
import { syntheticDataset } from "./synthetic.js";

const ds = syntheticDataset(3, 5);

describe("dataset cache format", () => {
  it("round-trips images, labels, shape, class names and source", () => {
    const back = decodeDatasetCache(encodeDatasetCache(ds, "test@1"));
    expect(back.source).toBe("test@1");
    expect(back.dataset.count).toBe(15);
    expect([back.dataset.channels, back.dataset.height, back.dataset.width]).toEqual([1, 4, 3]);
    expect(Array.from(back.dataset.images)).toEqual(Array.from(ds.images));
    expect(Array.from(back.dataset.labels)).toEqual(Array.from(ds.labels));
    expect(back.dataset.classNames).toEqual(ds.classNames);
  });

  const good = encodeDatasetCache(ds, "test@1");
  const damaged: [string, (b: Buffer) => Buffer, RegExp][] = [
    ["bad magic", (b) => (b.write("XXXX", 0, "latin1"), b), /bad magic/],
    ["another version", (b) => (b.writeUInt32LE(99, 8), b), /version 99/],
    ["truncated", (b) => b.subarray(0, b.length - 1), /size .* expected/],
    ["truncated header", (b) => b.subarray(0, 20), /truncated/],
    ["extra bytes", (b) => Buffer.concat([b, Buffer.from([0])]), /size .* expected/],
    ["wrong count", (b) => (b.writeUInt32LE(16, 12), b), /size .* expected/],
    ["a flipped pixel", (b) => ((b[b.length - 20] ^= 1), b), /checksum/],
    ["a flipped label", (b) => ((b[b.length - 1] ^= 1), b), /checksum/],
    ["a flipped checksum byte", (b) => ((b[40] ^= 1), b), /checksum/],
  ];
  for (const [what, damage, message] of damaged) {
    it(`rejects a file with ${what}`, () => {
      expect(() => decodeDatasetCache(damage(Buffer.from(good)))).toThrow(message);
      expect(() => decodeDatasetCache(damage(Buffer.from(good)))).toThrow(CacheError);
    });
  }
});

describe("loadOrBuildCache", () => {
  async function setup(): Promise<{ path: string; dir: string; warnings: string[]; builds: { n: number } }> {
    const dir = await mkdtemp(join(tmpdir(), "unetc-cache-"));
    return { path: join(dir, "sub", "ds.bin"), dir, warnings: [], builds: { n: 0 } };
  }
  const build = (counter: { n: number }) => async () => {
    counter.n++;
    return ds;
  };

  it("builds and writes when absent (no warning), then reads the cache", async () => {
    const s = await setup();
    const first = await loadOrBuildCache(s.path, "src@1", build(s.builds), (m) => s.warnings.push(m));
    expect(first.fromCache).toBe(false);
    const second = await loadOrBuildCache(s.path, "src@1", build(s.builds), (m) => s.warnings.push(m));
    expect(second.fromCache).toBe(true);
    expect(Array.from(second.dataset.images)).toEqual(Array.from(ds.images));
    expect(s.builds.n).toBe(1);
    expect(s.warnings).toEqual([]);
    expect((await readdir(join(s.dir, "sub"))).filter((f) => f.includes(".tmp-"))).toEqual([]); // atomic: no temp left
  });

  it("warns and rebuilds a corrupt or truncated cache, never using it", async () => {
    for (const damage of [(b: Buffer) => ((b[b.length - 5] ^= 0xff), b), (b: Buffer) => b.subarray(0, b.length - 100)]) {
      const s = await setup();
      await writeDatasetCache(s.path, ds, "src@1");
      await writeFile(s.path, damage(await readFile(s.path)));
      const r = await loadOrBuildCache(s.path, "src@1", build(s.builds), (m) => s.warnings.push(m));
      expect(r.fromCache).toBe(false);
      expect(s.builds.n).toBe(1);
      expect(s.warnings).toHaveLength(1);
      expect(s.warnings[0]).toContain(s.path);
      expect(s.warnings[0]).toMatch(/unusable: (checksum mismatch|size)/);
      // The rebuilt file is valid again.
      expect(decodeDatasetCache(await readFile(s.path)).source).toBe("src@1");
    }
  });

  it("rebuilds a cache made from another source version", async () => {
    const s = await setup();
    await writeDatasetCache(s.path, ds, "src@0");
    const r = await loadOrBuildCache(s.path, "src@1", build(s.builds), (m) => s.warnings.push(m));
    expect(r.fromCache).toBe(false);
    expect(s.warnings[0]).toMatch(/made from src@0, not src@1/);
  });
});

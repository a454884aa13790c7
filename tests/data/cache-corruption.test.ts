// The dataset cache under damage (issue 14): 1,000 seeded corruptions of a small cache file (bit
// flips in the header and the payload, 64-byte overwrites, truncations, appended garbage, zeroed
// tails) each lead loadOrBuildCache to warn (naming the file) and rebuild, returning the right
// dataset and leaving a valid cache: never a crash, a hang or a damaged dataset. A killed
// writer's temporary file is removed, and a cache that cannot be written costs a warning only.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { decodeDatasetCache, encodeDatasetCache, loadOrBuildCache } from "../../runtime/data/cache.js";
import type { ImageDataset } from "../../runtime/data/types.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { syntheticDataset } from "./synthetic.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-cache-corrupt-"));
const ds = syntheticDataset(3, 20, 6, 5); // 60 images of 6x5: a 2 KB file
const SOURCE = "synthetic@1";
const HEADER = 64;

function expectSameDataset(a: ImageDataset, b: ImageDataset): void {
  expect([a.count, a.channels, a.height, a.width]).toEqual([b.count, b.channels, b.height, b.width]);
  expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  expect(a.classNames).toEqual(b.classNames);
}

type Corruption = (b: Buffer, rng: Rng) => Buffer;
const flip = (b: Buffer, at: number, rng: Rng): void => {
  b[at] ^= 1 << rng.int(8);
};
const KINDS: Record<string, Corruption> = {
  "bit flip in the header": (b, rng) => (flip(b, rng.int(HEADER), rng), b),
  "1-8 bit flips in the payload": (b, rng) => {
    for (let k = 1 + rng.int(8); k > 0; k--) flip(b, HEADER + rng.int(b.length - HEADER), rng);
    return b;
  },
  "64 random bytes anywhere": (b, rng) => {
    const at = rng.int(b.length - 64);
    for (let i = 0; i < 64; i++) b[at + i] = rng.int(256);
    return b;
  },
  truncated: (b, rng) => b.subarray(0, rng.int(b.length)),
  "appended garbage": (b, rng) => Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256)))]),
  "a zeroed tail": (b, rng) => b.fill(0, rng.int(b.length)),
};

describe("dataset cache corruption", () => {
  it("1,000 seeded corruptions each warn naming the file and rebuild: the right dataset, a valid cache again", { timeout: 60_000 }, async () => {
    const path = join(tmp, "corrupt", "ds.bin");
    mkdirSync(join(tmp, "corrupt"));
    const good = encodeDatasetCache(ds, SOURCE);
    const rng = new Rng(14);
    const names = Object.keys(KINDS);
    const reasons = new Map<string, number>();
    let builds = 0;
    for (let i = 0; i < 1000; i++) {
      const kind = names[i % names.length];
      const bytes = KINDS[kind](Buffer.from(good), rng);
      expect(bytes.equals(good)).toBe(false);
      writeFileSync(path, bytes);
      const warnings: string[] = [];
      const before = builds;
      const r = await loadOrBuildCache(path, SOURCE, async () => (builds++, ds), (m) => warnings.push(m));
      expect(r.fromCache, `${i} ${kind}`).toBe(false);
      expect(builds).toBe(before + 1);
      expectSameDataset(r.dataset, ds);
      expect(warnings, `${i} ${kind}`).toHaveLength(1);
      expect(warnings[0]).toContain(`the dataset cache ${path} is unusable: `);
      const why = warnings[0].replace(/.*is unusable: /, "").replace(/\d+/g, "#").replace(/; rebuilding it$/, "");
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      expect(readFileSync(path).equals(good)).toBe(true); // rebuilt, byte for byte
    }
    expect(builds).toBe(1000);
    expect(reasons.get("checksum mismatch (the file is corrupt)")).toBeGreaterThan(300);
    expect(readdirSync(join(tmp, "corrupt"))).toEqual(["ds.bin"]);
  });

  it("reads an intact cache without a rebuild or a warning", async () => {
    const path = join(tmp, "intact.bin");
    writeFileSync(path, encodeDatasetCache(ds, SOURCE));
    const warnings: string[] = [];
    const r = await loadOrBuildCache(path, SOURCE, async () => expect.fail("no rebuild"), (m) => warnings.push(m));
    expect(r.fromCache).toBe(true);
    expectSameDataset(r.dataset, ds);
    expect(warnings).toEqual([]);
  });

  it("removes a killed writer's temporary file, and survives a cache it cannot write", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const dir = mkdtempSync(join(tmp, "stale-"));
    const path = join(dir, "ds.bin");
    writeFileSync(join(dir, `ds.bin.tmp-${dead}-1700000000000-0`), good());
    const r = await loadOrBuildCache(path, SOURCE, async () => ds, () => expect.fail("no warning for an absent cache"));
    expect(r.fromCache).toBe(false);
    expect(readdirSync(dir)).toEqual(["ds.bin"]);

    // A folder where the file should be: unreadable and unwritable; the data still arrives.
    const blocked = join(dir, "blocked.bin");
    mkdirSync(join(blocked, "inside"), { recursive: true });
    const warnings: string[] = [];
    const b = await loadOrBuildCache(blocked, SOURCE, async () => ds, (m) => warnings.push(m));
    expectSameDataset(b.dataset, ds);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/blocked\.bin is unusable: unreadable \(EISDIR/);
    expect(warnings[1]).toMatch(/cannot write the dataset cache .*blocked\.bin .*; continuing without it/);
    expect(decodeDatasetCache(good()).source).toBe(SOURCE);
  });
});

function good(): Buffer {
  return encodeDatasetCache(ds, SOURCE);
}

// A PNG data folder with damaged files (issue 14): 300 seeded corruptions of one image (bit
// flips, overwrites, truncations, appended garbage, zeroed tails) each end in a DataError naming
// that file, or load the very same pixels; an empty file, another format under a .png name, a
// header claiming a huge image and a mis-sized image are each refused naming the file, quickly.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { loadPngFolder } from "../../runtime/data/png-folder.js";
import { DataError, type ImageDataset } from "../../runtime/data/types.js";
import { Rng } from "../../runtime/diffusion/rng.js";

/** A w x h RGB PNG with a pattern (so damage to its pixels would show). */
function png(w: number, h: number, seed: number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) p.data.set([(i * 37 + seed) % 256, (i * 11) % 256, seed % 256, 255], i * 4);
  return PNG.sync.write(p);
}

function folder(files: Record<string, Buffer | string>): string {
  const dir = mkdtempSync(join(tmpdir(), "unetc-png-damage-"));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

const crcTable = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(b: Buffer): number {
  let c = -1;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

async function outcome(dir: string): Promise<ImageDataset | DataError> {
  try {
    return await loadPngFolder(dir);
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err; // a crash: the test fails here
  }
}

describe("damaged PNG data folders", () => {
  it("300 seeded corruptions of one image: a DataError naming it, or exactly the same pixels", { timeout: 60_000 }, async () => {
    const files = { "bags/a.png": png(8, 8, 1), "bags/b.png": png(8, 8, 2), "shoes/c.png": png(8, 8, 3), "shoes/d.png": png(8, 8, 4) };
    const dir = folder(files);
    const victim = join(dir, "shoes", "c.png");
    const good = await loadPngFolder(dir);
    const rng = new Rng(14);
    const kinds: ((b: Buffer) => Buffer)[] = [
      (b) => ((b[rng.int(b.length)] ^= 1 << rng.int(8)), b),
      (b) => {
        const at = rng.int(b.length - 16);
        for (let i = 0; i < 16; i++) b[at + i] = rng.int(256);
        return b;
      },
      (b) => b.subarray(0, rng.int(b.length)),
      (b) => Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(32) }, () => rng.int(256)))]),
      (b) => b.fill(0, rng.int(b.length)),
    ];
    const tally = { refused: 0, same: 0 };
    for (let i = 0; i < 300; i++) {
      writeFileSync(victim, kinds[i % kinds.length](Buffer.from(files["shoes/c.png"])));
      const r = await outcome(dir);
      if (r instanceof DataError) {
        expect(r.message.startsWith(`${victim}: `), r.message).toBe(true);
        tally.refused++;
      } else {
        expect(Buffer.from(r.images).equals(Buffer.from(good.images)), `corruption ${i} loaded different pixels`).toBe(true);
        tally.same++;
      }
    }
    expect(tally.refused).toBeGreaterThan(200);
  });

  it("refuses an empty file, another format, a huge header and a mis-sized image, naming the file", async () => {
    const ok = png(4, 4, 1);
    const huge = Buffer.from(ok); // a valid chunk claiming 20000x20000: pngjs would allocate 1.6 GB
    huge.writeUInt32BE(20000, 16);
    huge.writeUInt32BE(20000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    const gif = Buffer.from("474946383961010001000000002c00000000010001000002024401003b", "hex");
    const cases: [string, Buffer | string, RegExp][] = [
      ["empty.png", "", /empty\.png: not a readable PNG/],
      ["photo.png", Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]), /photo\.png: not a readable PNG/],
      ["anim.png", gif, /anim\.png: not a readable PNG/],
      ["notes.png", "just text\n", /notes\.png: not a readable PNG/],
      ["huge.png", huge, /huge\.png: its header claims 20000x20000 pixels, more than the 16777216 a training image may have/],
      ["big.png", png(5, 4, 2), /big\.png: is 5x4 but .*[/\\]a[/\\]ok\.png is 4x4; all images must have the same size/],
    ];
    for (const [name, content, message] of cases) {
      const dir = folder({ "a/ok.png": ok, [`b/${name}`]: content });
      const started = performance.now();
      const r = await outcome(dir);
      expect(r, name).toBeInstanceOf(DataError);
      expect((r as DataError).message).toMatch(message);
      expect((r as DataError).message).toContain(join(dir, "b", name));
      expect(performance.now() - started, name).toBeLessThan(2000);
    }
    expect(readFileSync(join(folder({ "x.png": ok }), "x.png")).equals(ok)).toBe(true);
  });
});

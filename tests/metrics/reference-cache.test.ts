// The FID reference-feature cache (.cache/fid) under damage: 1,000 seeded corruptions (bit flips,
// truncations, appended garbage, zeroed tails) are each refused, so the features are recomputed
// instead of silently skewing FID and KID; an intact file reads back exactly.
import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { decodeReferenceCache, encodeReferenceCache } from "../../runtime/metrics/reference.js";

describe("FID reference cache", () => {
  const count = 50;
  const dim = 16;
  const features = new Rng(3).fillNormal(new Float32Array(count * dim));
  const good = Buffer.from(encodeReferenceCache(features, count, dim));

  it("round-trips", () => {
    const back = decodeReferenceCache(Buffer.from(good))!;
    expect([back.count, back.dim]).toEqual([count, dim]);
    expect(Array.from(back.features)).toEqual(Array.from(features));
  });

  it("refuses each of 1,000 seeded corruptions", () => {
    const rng = new Rng(14);
    const kinds: ((b: Buffer) => Buffer)[] = [
      (b) => ((b[rng.int(b.length)] ^= 1 << rng.int(8)), b),
      (b) => b.subarray(0, rng.int(b.length)),
      (b) => Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(16) }, () => rng.int(256)))]),
      (b) => b.fill(0, rng.int(b.length)),
    ];
    for (let i = 0; i < 1000; i++) {
      const bytes = kinds[i % kinds.length](Buffer.from(good));
      if (bytes.equals(good)) continue; // a zeroed tail of zeros
      expect(decodeReferenceCache(bytes), `corruption ${i}`).toBeUndefined();
    }
  });
});

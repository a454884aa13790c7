// The classifier's runtime helpers: one-hot targets, the seeded flip + 1-pixel-shift augmentation
// (checked against the 18 variants of a hand-made image, and with the generator stubbed), and the
// eval scores (cross-entropy sum and correct count) against a direct float64 computation.
import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { augmentBatch, classificationScores, oneHot } from "../../runtime/train/classify.js";

describe("oneHot", () => {
  it("writes a 1 at each label and zeros elsewhere, into the buffer given", () => {
    const out = new Float32Array(12).fill(7); // stale values from a previous batch
    const r = oneHot(Int32Array.of(2, 0, 3), 4, out);
    expect(r).toBe(out);
    expect(Array.from(out)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  });

  it.each([[4], [-1], [100]])("throws for label %i of 4 classes", (label) => {
    expect(() => oneHot(Int32Array.of(0, label), 4, new Float32Array(8))).toThrow(`label ${label} is outside 0..3`);
  });
});

/** A channels x size x size image with distinct values per pixel and channel. */
function handMade(channels: number, size: number): Float32Array {
  return Float32Array.from({ length: channels * size * size }, (_, i) => i + 1);
}

/** The image flipped left-right (or not), padded by one pixel of `fill`, cropped at offset (1 + dy, 1 + dx). */
function variant(img: Float32Array, channels: number, size: number, flip: boolean, dy: number, dx: number, fill: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const sy = y + dy;
        const sx = x + dx;
        const inside = sy >= 0 && sy < size && sx >= 0 && sx < size;
        const srcX = flip ? size - 1 - sx : sx;
        out[(c * size + y) * size + x] = inside ? img[(c * size + sy) * size + srcX] : fill;
      }
    }
  }
  return out;
}

const VARIANTS = [false, true].flatMap((flip) => [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => ({ flip, dy, dx }))));

/** A generator that returns the given uniforms in order. */
function stub(uniforms: number[]): Rng {
  let i = 0;
  return {
    uniform: () => {
      if (i >= uniforms.length) throw new Error("stub Rng: out of values");
      return uniforms[i++];
    },
  } as unknown as Rng;
}

describe("augmentBatch", () => {
  const S = 4;

  it("flips left-right, then shifts by one pixel, filling uncovered pixels (generator stubbed)", () => {
    // Per image: uniform < 0.5 flips; then dy = floor(3u) - 1, dx = floor(3u) - 1.
    const img = handMade(1, S);
    const x = new Float32Array(3 * S * S);
    for (let i = 0; i < 3; i++) x.set(img, i * S * S);
    augmentBatch(x, 3, 1, S, -1, stub([0.9, 0.5, 0.5, 0.1, 0.5, 0.5, 0.7, 0.0, 0.99]));
    const rows = (i: number) => Array.from({ length: S }, (_, y) => Array.from(x.subarray(i * S * S + y * S, i * S * S + (y + 1) * S)));
    // 1: unchanged
    expect(rows(0)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15, 16],
    ]);
    // 2: mirrored
    expect(rows(1)).toEqual([
      [4, 3, 2, 1],
      [8, 7, 6, 5],
      [12, 11, 10, 9],
      [16, 15, 14, 13],
    ]);
    // 3: not flipped, dy = -1 (content moves down one row), dx = +1 (content moves left one column)
    expect(rows(2)).toEqual([
      [-1, -1, -1, -1],
      [2, 3, 4, -1],
      [6, 7, 8, -1],
      [10, 11, 12, -1],
    ]);
  });

  it("a flipped and shifted image is the shifted mirror image", () => {
    const img = handMade(1, S);
    const x = Float32Array.from(img);
    augmentBatch(x, 1, 1, S, 0, stub([0.2, 0.9, 0.0])); // flip, dy = +1, dx = -1
    expect(Array.from(x)).toEqual(Array.from(variant(img, 1, S, true, 1, -1, 0)));
    expect(Array.from(x.subarray(0, 4))).toEqual([0, 8, 7, 6]);
    expect(Array.from(x.subarray(12, 16))).toEqual([0, 0, 0, 0]);
  });

  it("each output is one of the 18 flip/shift variants, the same for every channel; all 18 occur", () => {
    const C = 3;
    const B = 200;
    const img = handMade(C, S);
    const x = new Float32Array(B * C * S * S);
    for (let i = 0; i < B; i++) x.set(img, i * img.length);
    augmentBatch(x, B, C, S, -1, new Rng(11));
    const keys = VARIANTS.map((v) => Array.from(variant(img, C, S, v.flip, v.dy, v.dx, -1)).join(","));
    expect(new Set(keys).size).toBe(18); // the hand-made image tells all variants apart
    const seen = new Map<number, number>();
    for (let i = 0; i < B; i++) {
      const got = Array.from(x.subarray(i * img.length, (i + 1) * img.length)).join(",");
      const k = keys.indexOf(got);
      expect(k, `image ${i} is not a flip/shift of the input`).toBeGreaterThanOrEqual(0);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect(seen.size).toBe(18);
    const flipped = [...seen].filter(([k]) => VARIANTS[k].flip).reduce((s, [, n]) => s + n, 0);
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
  });

  it("is determined by the generator's state and advances it by three uniforms per image", () => {
    const B = 5;
    const make = () => Float32Array.from({ length: B * 2 * S * S }, (_, i) => (i * 37) % 11);
    const a = make();
    const b = make();
    const ra = new Rng(5);
    const rb = new Rng(5);
    augmentBatch(a, B, 2, S, -1, ra);
    augmentBatch(b, B, 2, S, -1, rb);
    expect(Array.from(a)).toEqual(Array.from(b));
    const r = new Rng(5);
    for (let i = 0; i < 3 * B; i++) r.uniform();
    expect(ra.state).toBe(r.state);
  });
});

describe("classificationScores", () => {
  function direct(logits: Float64Array, labels: Int32Array, n: number, k: number) {
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * k, (i + 1) * k));
      const m = Math.max(...row);
      lossSum += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[labels[i]];
      if (row.indexOf(m) === labels[i]) correct++;
    }
    return { lossSum, correct };
  }

  it.each([
    [1, 2],
    [2, 30],
    [3, 500],
  ])("equals the cross-entropy sum and argmax count computed directly (seed %i, logits in +-%i)", (seed, scale) => {
    const rng = new Rng(seed);
    const n = 40;
    const k = 10;
    const logits = Float64Array.from({ length: n * k }, () => scale * (2 * rng.uniform() - 1));
    const labels = Int32Array.from({ length: n }, () => rng.int(k));
    for (let i = 0; i < 10; i++) logits[i * k + labels[i]] = scale * 2; // some right answers
    const got = classificationScores(Float32Array.from(logits), labels, n, k);
    const want = direct(Float64Array.from(Float32Array.from(logits)), labels, n, k);
    expect(got.correct).toBe(want.correct);
    expect(got.correct).toBeGreaterThanOrEqual(10);
    expect(got.lossSum).toBeCloseTo(want.lossSum, 8);
    expect(Number.isFinite(got.lossSum)).toBe(true);
  });

  it("reads only the first n rows (a padded last batch)", () => {
    const logits = Float32Array.of(0, 0, 3, 1, 1e30, -1e30); // row 2 is padding
    const r = classificationScores(logits, Int32Array.of(1, 0), 2, 2);
    expect(r.correct).toBe(1);
    expect(r.lossSum).toBeCloseTo(Math.log(2) + Math.log(1 + Math.exp(-2)), 12);
  });
});

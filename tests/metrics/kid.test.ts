import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { kid, kidChunkBounds, kidChunkCount, roundHalfEven, squaredMmd } from "../../runtime/metrics/kid.js";
import { randomMatrix } from "./helpers.js";

/** Unbiased MMD^2 with the cubic kernel, straight from its definition (off-diagonal pairs only). */
function plainMmd(x: ArrayLike<number>, y: ArrayLike<number>, dim: number): number {
  const m = x.length / dim;
  const n = y.length / dim;
  const k = (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number => {
    let dot = 0;
    for (let t = 0; t < dim; t++) dot += a[i * dim + t] * b[j * dim + t];
    return (dot / dim + 1) ** 3;
  };
  let xx = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) xx += k(x, i, x, j);
  let yy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) yy += k(y, i, y, j);
  let xy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xy += k(x, i, y, j);
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

/** Rows [from, to) of a [rows, dim] matrix. */
function rows(a: Float64Array, from: number, to: number, dim: number): Float64Array {
  return a.slice(from * dim, to * dim);
}

/** KID from explicitly listed chunk boundaries. */
function plainKid(x: Float64Array, xb: number[], y: Float64Array, yb: number[], dim: number): number {
  let total = 0;
  for (let i = 0; i + 1 < xb.length; i++) {
    total += plainMmd(rows(x, xb[i], xb[i + 1], dim), rows(y, yb[i], yb[i + 1], dim), dim);
  }
  return total / (xb.length - 1);
}

function expectRelClose(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe("roundHalfEven", () => {
  it("rounds to nearest and breaks ties to even, as Python's round()", () => {
    const cases: [number, number][] = [
      [0, 0],
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [3.5, 4],
      [7.5, 8],
      [12.5, 12],
      [22.5, 22],
      [2.4999999999999996, 2],
      [2.5000000000000004, 3],
      [6.25, 6],
      [18.75, 19],
    ];
    for (const [v, r] of cases) expect(roundHalfEven(v)).toBe(r);
  });
});

describe("KID chunking", () => {
  it("takes max(ceil(min(xs, ys) / maxs), 4) chunks", () => {
    expect(kidChunkCount(10, 12)).toBe(4);
    expect(kidChunkCount(300, 200)).toBe(4);
    expect(kidChunkCount(1000, 120)).toBe(4);
    expect(kidChunkCount(1000, 260)).toBe(6);
    expect(kidChunkCount(255, 261)).toBe(6);
    expect(kidChunkCount(30, 25, 5)).toBe(5);
  });

  it("places boundaries with round-half-even (Math.round would differ)", () => {
    expect(kidChunkBounds(10, 4)).toEqual([0, 2, 5, 8, 10]);
    expect(kidChunkBounds(30, 4)).toEqual([0, 8, 15, 22, 30]);
    expect(kidChunkBounds(25, 4)).toEqual([0, 6, 12, 19, 25]);
    expect(kidChunkBounds(255, 6)).toEqual([0, 42, 85, 128, 170, 212, 255]);
    // JavaScript's Math.round rounds 2.5 up, which would move a row between chunks.
    expect([0, 1, 2, 3, 4].map((i) => Math.round((i * 10) / 4))).toEqual([0, 3, 5, 8, 10]);
  });
});

describe("squaredMmd", () => {
  it("equals the unbiased estimator written out pair by pair", () => {
    const rng = new Rng(1);
    const dim = 5;
    const x = randomMatrix(rng, 9, dim);
    const y = randomMatrix(rng, 6, dim, 1.5);
    expectRelClose(squaredMmd(x, 9, y, 6, dim), plainMmd(x, y, dim), 1e-12);
  });

  it("matches it for every small pair of sizes (the tiled kernel sums have edge cases)", () => {
    const rng = new Rng(4);
    const dim = 3;
    for (let m = 2; m <= 9; m++) {
      for (let n = 2; n <= 9; n++) {
        const x = randomMatrix(rng, m, dim);
        const y = randomMatrix(rng, n, dim, 0.7);
        expectRelClose(squaredMmd(x, m, y, n, dim), plainMmd(x, y, dim), 1e-11);
      }
    }
  });

  it("needs two rows per set", () => {
    expect(() => squaredMmd(new Float64Array(3), 1, new Float64Array(6), 2, 3)).toThrow(/at least 2 rows/);
  });
});

describe("kid", () => {
  const dim = 6;
  const rng = new Rng(2);
  const x = randomMatrix(rng, 30, dim);
  const y = randomMatrix(rng, 25, dim, 1.3).map((v) => v + 0.2);

  it("averages the unbiased MMD^2 over the course's chunks (10 vs 12 rows)", () => {
    const xs = x.slice(0, 10 * dim);
    const ys = y.slice(0, 12 * dim);
    const expected = plainKid(xs, [0, 2, 5, 8, 10], ys, [0, 3, 6, 9, 12], dim);
    expectRelClose(kid(xs, 10, ys, 12, dim), expected, 1e-12);
  });

  it("averages the unbiased MMD^2 over the course's chunks (30 vs 25 rows, ties in both)", () => {
    const expected = plainKid(x, [0, 8, 15, 22, 30], y, [0, 6, 12, 19, 25], dim);
    expectRelClose(kid(x, 30, y, 25, dim), expected, 1e-12);
  });

  it("follows maxChunk", () => {
    const expected = plainKid(x, [0, 6, 12, 18, 24, 30], y, [0, 5, 10, 15, 20, 25], dim);
    expectRelClose(kid(x, 30, y, 25, dim, { maxChunk: 5 }), expected, 1e-12);
  });

  it("reads Float32Array and Float64Array alike", () => {
    const x32 = Float32Array.from(x);
    const y32 = Float32Array.from(y);
    expect(kid(x32, 30, y32, 25, dim)).toBe(kid(Float64Array.from(x32), 30, Float64Array.from(y32), 25, dim));
  });

  it("is ~0 in expectation for one distribution, and larger for two", () => {
    const r = new Rng(3);
    const a = randomMatrix(r, 400, dim);
    const b = randomMatrix(r, 400, dim);
    const shifted = randomMatrix(r, 400, dim).map((v) => v + 0.5);
    const same = kid(a, 400, b, 400, dim);
    const different = kid(a, 400, shifted, 400, dim);
    expect(Math.abs(same)).toBeLessThan(0.05);
    expect(different).toBeGreaterThan(10 * Math.abs(same));
  });

  it("rejects sets whose chunks would hold a single row (the course would return NaN)", () => {
    expect(() => kid(x.slice(0, 7 * dim), 7, y, 25, dim)).toThrow(/chunk 2 of 4 holds 1 x rows/);
  });
});

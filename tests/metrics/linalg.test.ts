import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { sqrtPsd, symmetricEigen, symmetricEigenvalues, traceSqrtProduct } from "../../runtime/metrics/linalg.js";
import {
  fromEigen,
  gram,
  matmul,
  maxAbs,
  maxAbsDiff,
  orthonormalityError,
  randomMatrix,
  randomOrthogonal,
  randomSymmetric,
} from "./helpers.js";

/** Checks A = V diag(w) V^T, V^T V = I and ascending w, all relative to max |A|. */
function expectValidEigen(a: Float64Array, n: number, tol = 1e-10): { values: Float64Array; vectors: Float64Array } {
  const { values, vectors } = symmetricEigen(a, n);
  const scale = Math.max(maxAbs(a), 1);
  expect(values.length).toBe(n);
  expect(vectors.length).toBe(n * n);
  expect(maxAbsDiff(fromEigen(values, vectors, n), a) / scale).toBeLessThan(tol);
  expect(orthonormalityError(vectors, n)).toBeLessThan(tol);
  for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  return { values, vectors };
}

/** Q diag(w) Q^T with a random orthogonal Q. */
function withSpectrum(rng: Rng, w: number[]): Float64Array {
  const n = w.length;
  return fromEigen(w, randomOrthogonal(rng, n), n);
}

describe("symmetricEigen", () => {
  it.each([1, 2, 3, 7, 64])("decomposes a random symmetric %i x %i matrix", (n) => {
    expectValidEigen(randomSymmetric(new Rng(100 + n), n), n);
  });

  it("decomposes a rank-deficient PSD matrix (5 samples in 20 dimensions)", () => {
    const n = 20;
    const a = gram(randomMatrix(new Rng(5), 5, n), 5, n);
    const { values } = expectValidEigen(a, n);
    const top = values[n - 1];
    // 15 zero eigenvalues, to rounding; 5 clearly positive.
    for (let i = 0; i < 15; i++) expect(Math.abs(values[i])).toBeLessThan(1e-13 * top);
    for (let i = 15; i < n; i++) expect(values[i]).toBeGreaterThan(1e-3 * top);
  });

  it("decomposes a diagonal matrix into sorted values and unit vectors", () => {
    const diag = [3, -1, 0, 7, 2.5];
    const n = diag.length;
    const a = new Float64Array(n * n);
    diag.forEach((v, i) => (a[i * n + i] = v));
    const { values, vectors } = expectValidEigen(a, n);
    expect(Array.from(values)).toEqual([...diag].sort((x, y) => x - y));
    for (const v of vectors) expect(Math.min(Math.abs(v), Math.abs(Math.abs(v) - 1))).toBeLessThan(1e-15);
  });

  it("handles repeated eigenvalues", () => {
    const w = [3, 3, 3, 1, 1, -2, 0, 0, 0, 5];
    const a = withSpectrum(new Rng(7), w);
    const { values } = expectValidEigen(a, w.length);
    expect(maxAbsDiff(values, [...w].sort((x, y) => x - y))).toBeLessThan(1e-12);
  });

  it("handles the zero matrix and a multiple of the identity", () => {
    const n = 6;
    expectValidEigen(new Float64Array(n * n), n);
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 2;
    const { values } = expectValidEigen(eye, n);
    expect(Array.from(values)).toEqual(new Array(n).fill(2));
  });

  it("uses only the symmetric part of its input", () => {
    const n = 5;
    const a = randomSymmetric(new Rng(9), n);
    const skewed = Float64Array.from(a);
    skewed[1] += 0.25; // a[0,1]
    skewed[n] -= 0.25; // a[1,0]
    expect(maxAbsDiff(symmetricEigen(skewed, n).values, symmetricEigen(a, n).values)).toBeLessThan(1e-14);
  });

  it("finishes a 256 x 256 matrix (reconstruction checked on a sample of entries)", () => {
    const n = 256;
    const a = randomSymmetric(new Rng(256), n);
    const { values, vectors } = symmetricEigen(a, n);
    const rng = new Rng(1);
    for (let t = 0; t < 200; t++) {
      const i = rng.int(n);
      const j = rng.int(n);
      let s = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        s += vectors[i * n + k] * values[k] * vectors[j * n + k];
        o += vectors[k * n + i] * vectors[k * n + j];
      }
      expect(Math.abs(s - a[i * n + j])).toBeLessThan(1e-10);
      expect(Math.abs(o - (i === j ? 1 : 0))).toBeLessThan(1e-10);
    }
  });

  it("rejects non-finite entries and a wrong size", () => {
    const a = new Float64Array([1, 0, 0, NaN]);
    expect(() => symmetricEigen(a, 2)).toThrow(/not finite/);
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(/expected 2x2 = 4 entries, got 5/);
  });
});

describe("symmetricEigenvalues", () => {
  it("agrees with symmetricEigen", () => {
    for (const n of [1, 4, 33]) {
      const a = randomSymmetric(new Rng(n), n);
      expect(maxAbsDiff(symmetricEigenvalues(a, n), symmetricEigen(a, n).values)).toBeLessThan(1e-12);
    }
  });
});

describe("sqrtPsd", () => {
  it.each([
    ["full rank", 30],
    ["rank deficient", 4],
  ])("squares back to the matrix (%s)", (_, rows) => {
    const n = 12;
    const s = gram(randomMatrix(new Rng(rows), rows, n), rows, n);
    const r = sqrtPsd(s, n);
    expect(maxAbsDiff(r, Array.from({ length: n * n }, (_, k) => r[(k % n) * n + Math.floor(k / n)]))).toBe(0);
    expect(maxAbsDiff(matmul(r, r, n), s) / maxAbs(s)).toBeLessThan(1e-12);
    expect(symmetricEigenvalues(r, n)[0]).toBeGreaterThan(-1e-7 * maxAbs(r));
  });

  it("clamps eigenvalues that rounding made negative", () => {
    const s = withSpectrum(new Rng(3), [4, 1, -1e-13, -3e-14]);
    const r = sqrtPsd(s, 4);
    const expected = withSpectrum(new Rng(3), [2, 1, 0, 0]);
    expect(maxAbsDiff(r, expected)).toBeLessThan(1e-12);
  });
});

describe("traceSqrtProduct", () => {
  it("is sum sqrt(d1 d2) for diagonal matrices", () => {
    const d1 = [1, 4, 0.25, 9, 0];
    const d2 = [16, 1, 4, 0.5, 3];
    const n = d1.length;
    const c1 = new Float64Array(n * n);
    const c2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      c1[i * n + i] = d1[i];
      c2[i * n + i] = d2[i];
    }
    const expected = d1.reduce((s, v, i) => s + Math.sqrt(v * d2[i]), 0);
    expect(traceSqrtProduct(c1, c2, n)).toBeCloseTo(expected, 13);
  });

  it("is sum sqrt(d1 d2) for commuting matrices with a shared rotated eigenbasis", () => {
    const d1 = [2, 3, 5, 0.1, 1, 1];
    const d2 = [8, 0.75, 5, 10, 0.3, 4];
    const n = d1.length;
    const q = randomOrthogonal(new Rng(11), n);
    const expected = d1.reduce((s, v, i) => s + Math.sqrt(v * d2[i]), 0);
    expect(traceSqrtProduct(fromEigen(d1, q, n), fromEigen(d2, q, n), n)).toBeCloseTo(expected, 12);
  });

  it("is tr c for c1 = c2 = c, and symmetric in its arguments", () => {
    const n = 10;
    const rng = new Rng(12);
    const c1 = gram(randomMatrix(rng, 20, n), 20, n);
    const c2 = gram(randomMatrix(rng, 15, n), 15, n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += c1[i * n + i];
    expect(traceSqrtProduct(c1, c1, n)).toBeCloseTo(trace, 10);
    expect(traceSqrtProduct(c1, c2, n)).toBeCloseTo(traceSqrtProduct(c2, c1, n), 10);
  });
});

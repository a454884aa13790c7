import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { decodeStats, encodeStats, featureStats, fid, type FeatureStats } from "../../runtime/metrics/fid.js";
import { maxAbsDiff, randomMatrix } from "./helpers.js";

/** n correlated Gaussian features of size dim: z [n, dim] @ mix [dim, dim] + offset. */
function features(rng: Rng, n: number, dim: number, offset = 0): Float64Array {
  const z = randomMatrix(rng, n, dim);
  const mix = randomMatrix(rng, dim, dim, 1 / Math.sqrt(dim));
  const out = new Float64Array(n * dim);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dim; j++) {
      let s = offset;
      for (let k = 0; k < dim; k++) s += z[r * dim + k] * mix[k * dim + j];
      out[r * dim + j] = s;
    }
  }
  return out;
}

function trace(s: FeatureStats): number {
  let t = 0;
  for (let i = 0; i < s.dim; i++) t += s.cov[i * s.dim + i];
  return t;
}

describe("featureStats", () => {
  it("is the mean and the unbiased covariance, written out plainly", () => {
    const [n, dim] = [7, 3];
    const x = features(new Rng(1), n, dim, 0.5);
    const stats = featureStats(x, n, dim);
    expect(stats.n).toBe(n);
    expect(stats.dim).toBe(dim);
    for (let i = 0; i < dim; i++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += x[r * dim + i];
      expect(stats.mean[i]).toBeCloseTo(m / n, 14);
    }
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) {
        let c = 0;
        for (let r = 0; r < n; r++) c += (x[r * dim + i] - stats.mean[i]) * (x[r * dim + j] - stats.mean[j]);
        expect(stats.cov[i * dim + j]).toBeCloseTo(c / (n - 1), 14);
      }
    }
  });

  it("reads Float32Array and Float64Array alike", () => {
    const x32 = Float32Array.from(features(new Rng(2), 20, 4));
    const a = featureStats(x32, 20, 4);
    const b = featureStats(Float64Array.from(x32), 20, 4);
    expect(maxAbsDiff(a.mean, b.mean)).toBe(0);
    expect(maxAbsDiff(a.cov, b.cov)).toBe(0);
  });

  it("needs two samples and a matching length", () => {
    expect(() => featureStats(new Float64Array(4), 1, 4)).toThrow(/at least 2 feature vectors, got 1/);
    expect(() => featureStats(new Float64Array(7), 2, 4)).toThrow(/needs 8 values, got 7/);
  });
});

describe("fid", () => {
  const [n, dim] = [400, 8];
  const x = features(new Rng(3), n, dim, 0.2);
  const base = featureStats(x, n, dim);

  it("is ~0 between a set and itself", () => {
    expect(Math.abs(fid(base, base))).toBeLessThan(1e-8 * trace(base));
    const copy = featureStats(Float64Array.from(x), n, dim);
    expect(Math.abs(fid(base, copy))).toBeLessThan(1e-8 * trace(base));
  });

  it("grows with the std of added Gaussian noise", () => {
    const noise = randomMatrix(new Rng(4), n, dim);
    const values = [0.1, 0.2, 0.4, 0.8].map((std) => {
      const y = x.map((v, i) => v + std * noise[i]);
      return fid(base, featureStats(y, n, dim));
    });
    expect(values[0]).toBeGreaterThan(0);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
  });

  it("grows with a mean shift, as ||shift||^2 exactly (the covariance is unchanged)", () => {
    const dir = randomMatrix(new Rng(5), 1, dim);
    const norm2 = dir.reduce((s, v) => s + v * v, 0);
    let last = 0;
    for (const shift of [0.1, 0.2, 0.4, 0.8]) {
      const y = x.map((v, i) => v + shift * dir[i % dim]);
      const value = fid(base, featureStats(y, n, dim));
      expect(value).toBeGreaterThan(last);
      expect(value).toBeCloseTo(shift * shift * norm2, 8);
      last = value;
    }
  });

  it("is symmetric", () => {
    const other = featureStats(features(new Rng(6), 300, dim, -0.1), 300, dim);
    expect(fid(base, other)).toBeCloseTo(fid(other, base), 10);
  });

  it("stays ~0 for a rank-deficient set against itself (10 samples in 32 dimensions)", () => {
    // The 23 zero eigenvalues of the covariance come out as +-eps*||C||, and their square
    // roots (~1e-8 each) do not cancel exactly, hence the looser bound.
    const s = featureStats(features(new Rng(7), 10, 32), 10, 32);
    expect(Math.abs(fid(s, s))).toBeLessThan(1e-6 * trace(s));
  });

  it("needs matching dimensions", () => {
    const other = featureStats(features(new Rng(8), 10, 4), 10, 4);
    expect(() => fid(base, other)).toThrow(/feature dimensions differ \(8 vs 4\)/);
  });
});

describe("encodeStats / decodeStats", () => {
  const stats = featureStats(features(new Rng(9), 50, 6, 1), 50, 6);

  it("round-trips exactly", () => {
    const buf = encodeStats(stats);
    expect(buf.length).toBe(24 + 8 * (6 + 36));
    const back = decodeStats(buf);
    expect(back.n).toBe(50);
    expect(back.dim).toBe(6);
    expect(maxAbsDiff(back.mean, stats.mean)).toBe(0);
    expect(maxAbsDiff(back.cov, stats.cov)).toBe(0);
  });

  it("reads from an unaligned view into a larger buffer", () => {
    const buf = encodeStats(stats);
    const big = new Uint8Array(buf.length + 3);
    big.set(buf, 3);
    const back = decodeStats(big.subarray(3));
    expect(maxAbsDiff(back.cov, stats.cov)).toBe(0);
  });

  it("rejects truncated, padded and foreign buffers with a clear message", () => {
    const buf = encodeStats(stats);
    expect(() => decodeStats(buf.subarray(0, buf.length - 8))).toThrow(/truncated: dim 6 needs 360 bytes, got 352/);
    expect(() => decodeStats(buf.subarray(0, 10))).toThrow(/not a unetc FID statistics file/);
    expect(() => decodeStats(Buffer.concat([buf, Buffer.alloc(8)]))).toThrow(/trailing bytes/);
    expect(() => decodeStats(Buffer.from("PK\x03\x04 not statistics at all, just some zip"))).toThrow(
      /not a unetc FID statistics file/,
    );
    const future = Buffer.from(buf);
    future.writeUInt32LE(2, 8);
    expect(() => decodeStats(future)).toThrow(/unsupported FID statistics version 2/);
    const nan = Buffer.from(buf);
    nan.writeDoubleLE(NaN, 24);
    expect(() => decodeStats(nan)).toThrow(/mean holds a non-finite value/);
  });
});

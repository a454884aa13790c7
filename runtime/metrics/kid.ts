// Kernel Inception Distance, as fast.ai course22p2 computes it (miniai/fid.py, _squared_mmd
// and _calc_kid), in float64:
//
//   k(a, b) = (a.b / dim + 1)^3                                  cubic polynomial kernel
//   MMD^2   = (sum kxx - tr kxx) / m(m-1) + (sum kyy - tr kyy) / n(n-1) - 2 sum kxy / (m n)
//
// the unbiased estimator, averaged over chunks:
//
//   chunks = max(ceil(min(xs / maxs, ys / maxs)), 4)           maxs = 50
//   chunk i of x = x[round(i xs / chunks) : round((i+1) xs / chunks)], same for y
//
// Python's round() breaks ties to even (round(2.5) = 2, round(7.5) = 8), and that decides
// which rows land in which chunk, so it is reproduced here. The chunk count follows the
// smaller set: its chunks hold about maxs rows or fewer, the larger set's can hold many more.
// A chunk of one row would make the course divide 0 by 0 and return NaN; here it is an error
// (with the default maxs, only when a set has fewer than 8 rows).

import type { Features } from "./fid.js";

export interface KidOptions {
  /** The course's `maxs`: the most rows a chunk of the smaller set holds. Default 50. */
  maxChunk?: number;
}

/** Python's round() for a float: nearest integer, ties to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const frac = v - f;
  if (frac > 0.5) return f + 1;
  if (frac < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The course's chunk count for sets of xs and ys rows. */
export function kidChunkCount(xs: number, ys: number, maxChunk = 50): number {
  return Math.max(Math.ceil(Math.min(xs / maxChunk, ys / maxChunk)), 4);
}

/** Row boundaries of the chunks of a set of `rows` rows: chunk i is [b[i], b[i+1]). */
export function kidChunkBounds(rows: number, chunks: number): number[] {
  // (i * rows) / chunks is an exact integer product and one correctly rounded division,
  // the same float Python computes for i*xs/n.
  return Array.from({ length: chunks + 1 }, (_, i) => roundHalfEven((i * rows) / chunks));
}

/** KID between x [nx, dim] and y [ny, dim] (row-major), the mean of per-chunk unbiased MMD^2. */
export function kid(x: Features, nx: number, y: Features, ny: number, dim: number, opts: KidOptions = {}): number {
  checkFeatures(x, nx, dim, "kid (x)");
  checkFeatures(y, ny, dim, "kid (y)");
  const maxChunk = opts.maxChunk ?? 50;
  if (!(maxChunk > 0)) throw new Error(`kid: maxChunk must be positive, got ${maxChunk}`);
  const chunks = kidChunkCount(nx, ny, maxChunk);
  const bx = kidChunkBounds(nx, chunks);
  const by = kidChunkBounds(ny, chunks);
  let total = 0;
  for (let i = 0; i < chunks; i++) {
    const m = bx[i + 1] - bx[i];
    const n = by[i + 1] - by[i];
    if (m < 2 || n < 2) {
      throw new Error(
        `kid: chunk ${i} of ${chunks} holds ${m} x rows and ${n} y rows; the unbiased estimator needs ` +
          `at least 2 of each (sets of ${nx} and ${ny} rows, maxChunk ${maxChunk})`,
      );
    }
    total += squaredMmd(x.subarray(bx[i] * dim, bx[i + 1] * dim), m, y.subarray(by[i] * dim, by[i + 1] * dim), n, dim);
  }
  return total / chunks;
}

/** Unbiased MMD^2 with the cubic kernel between x [m, dim] and y [n, dim] (one chunk). */
export function squaredMmd(x: Features, m: number, y: Features, n: number, dim: number): number {
  checkFeatures(x, m, dim, "squaredMmd (x)");
  checkFeatures(y, n, dim, "squaredMmd (y)");
  if (m < 2 || n < 2) throw new Error(`squaredMmd: needs at least 2 rows in each set, got ${m} and ${n}`);
  // The course sums all of kxx and subtracts its diagonal; kxx is symmetric, so that is
  // twice the sum above the diagonal (equal up to rounding, at half the cost).
  const kxx = 2 * kernelSum(x, m, x, m, dim, true);
  const kyy = 2 * kernelSum(y, n, y, n, dim, true);
  const kxy = kernelSum(x, m, y, n, dim, false);
  return kxx / m / (m - 1) + kyy / n / (n - 1) - (kxy * 2) / m / n;
}

/**
 * sum_{i, j} k(a_i, b_j) over a [na, dim] and b [nb, dim], or only over i < j when `above`
 * (a and b the same set). The dot products go in 2x4 tiles, eight accumulators sharing each
 * load, which is 2-3x faster in V8 than one dot product at a time.
 */
function kernelSum(a: Features, na: number, b: Features, nb: number, dim: number, above: boolean): number {
  const k = (dot: number): number => {
    const t = dot / dim + 1;
    return t * t * t;
  };
  let sum = 0;
  for (let i0 = 0; i0 < na; i0 += 2) {
    for (let j0 = above ? i0 : 0; j0 < nb; j0 += 4) {
      if (i0 + 2 > na || j0 + 4 > nb) {
        for (let i = i0; i < Math.min(i0 + 2, na); i++) {
          for (let j = j0; j < Math.min(j0 + 4, nb); j++) {
            if (above && i >= j) continue;
            let dot = 0;
            for (let t = 0; t < dim; t++) dot += a[i * dim + t] * b[j * dim + t];
            sum += k(dot);
          }
        }
        continue;
      }
      const p0 = i0 * dim;
      const p1 = p0 + dim;
      const q0 = j0 * dim;
      const q1 = q0 + dim;
      const q2 = q1 + dim;
      const q3 = q2 + dim;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < dim; t++) {
        const x0 = a[p0 + t];
        const x1 = a[p1 + t];
        const y0 = b[q0 + t];
        const y1 = b[q1 + t];
        const y2 = b[q2 + t];
        const y3 = b[q3 + t];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      // With `above`, only the tile starting on the diagonal holds pairs with i >= j.
      if (above && j0 === i0) sum += k(s01) + k(s02) + k(s03) + k(s12) + k(s13);
      else sum += k(s00) + k(s01) + k(s02) + k(s03) + k(s10) + k(s11) + k(s12) + k(s13);
    }
  }
  return sum;
}

function checkFeatures(feats: Features, rows: number, dim: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new Error(`${what}: bad shape [${rows}, ${dim}]`);
  }
  if (feats.length !== rows * dim) {
    throw new Error(`${what}: shape [${rows}, ${dim}] needs ${rows * dim} values, got ${feats.length}`);
  }
}

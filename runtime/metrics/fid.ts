// Fréchet Inception Distance between two feature sets, as fast.ai course22p2 computes it
// (miniai/fid.py, _calc_stats and _calc_fid):
//
//   stats = (feats.mean(0), feats.T.cov())        unbiased covariance, divides by N - 1
//   FID   = ||m1 - m2||^2 + tr c1 + tr c2 - 2 tr(sqrtm(c1 c2))
//
// Everything is float64 (the course's statistics are float32). tr(sqrtm(c1 c2)) comes from
// the symmetric form in linalg.ts instead of scipy's non-symmetric sqrtm; see there.
//
// The statistics of a reference set are computed once and stored, so this file also holds a
// small binary format for them (all little-endian):
//
//   offset 0   8 bytes  magic "UNETCFID"
//   offset 8   u32      format version (1)
//   offset 12  u32      dim
//   offset 16  u32      n, the number of feature vectors the statistics came from
//   offset 20  u32      reserved, 0
//   offset 24  f64[dim]        mean
//   then       f64[dim * dim]  covariance, row-major

import { traceSqrtProduct } from "./linalg.js";

export type Features = Float32Array | Float64Array;

/** Mean and unbiased covariance of n feature vectors of size dim. */
export interface FeatureStats {
  n: number;
  dim: number;
  mean: Float64Array;
  /** dim * dim, row-major, symmetric. */
  cov: Float64Array;
}

/** Mean and unbiased (N - 1) covariance of `feats`, row-major [n, dim]. */
export function featureStats(feats: Features, n: number, dim: number): FeatureStats {
  checkFeatures(feats, n, dim, "featureStats");
  if (n < 2) throw new Error(`featureStats: an unbiased covariance needs at least 2 feature vectors, got ${n}`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const row = r * dim;
    for (let j = 0; j < dim; j++) mean[j] += feats[row + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;

  // Upper triangle of sum_r c_r c_r^T with c_r the centred rows, then mirrored. Rows go four
  // at a time (zero rows pad the last group) so the covariance is streamed n/4 times, not n.
  const cov = new Float64Array(dim * dim);
  const c0 = new Float64Array(dim);
  const c1 = new Float64Array(dim);
  const c2 = new Float64Array(dim);
  const c3 = new Float64Array(dim);
  const centre = (c: Float64Array, r: number): void => {
    if (r >= n) return void c.fill(0);
    for (let j = 0; j < dim; j++) c[j] = feats[r * dim + j] - mean[j];
  };
  for (let r = 0; r < n; r += 4) {
    centre(c0, r);
    centre(c1, r + 1);
    centre(c2, r + 2);
    centre(c3, r + 3);
    for (let i = 0; i < dim; i++) {
      const a0 = c0[i];
      const a1 = c1[i];
      const a2 = c2[i];
      const a3 = c3[i];
      const out = i * dim;
      for (let j = i; j < dim; j++) cov[out + j] += a0 * c0[j] + a1 * c1[j] + a2 * c2[j] + a3 * c3[j];
    }
  }
  const inv = 1 / (n - 1);
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j] * inv;
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  return { n, dim, mean, cov };
}

/** FID between two sets of feature statistics of the same dimension. */
export function fid(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new Error(`fid: feature dimensions differ (${a.dim} vs ${b.dim})`);
  const dim = a.dim;
  checkStats(a, "fid (first)");
  checkStats(b, "fid (second)");
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < dim; i++) {
    const diff = a.mean[i] - b.mean[i];
    meanTerm += diff * diff;
    traces += a.cov[i * dim + i] + b.cov[i * dim + i];
  }
  return meanTerm + traces - 2 * traceSqrtProduct(a.cov, b.cov, dim);
}

const MAGIC = "UNETCFID";
const VERSION = 1;
const HEADER_BYTES = 24;

/** Serialises statistics to the binary format described at the top of this file. */
export function encodeStats(stats: FeatureStats): Buffer {
  checkStats(stats, "encodeStats");
  const { dim } = stats;
  const buf = Buffer.alloc(HEADER_BYTES + 8 * (dim + dim * dim));
  buf.write(MAGIC, 0, "latin1");
  buf.writeUInt32LE(VERSION, 8);
  buf.writeUInt32LE(dim, 12);
  buf.writeUInt32LE(stats.n, 16);
  buf.writeUInt32LE(0, 20);
  let off = HEADER_BYTES;
  for (const v of stats.mean) off = buf.writeDoubleLE(v, off);
  for (const v of stats.cov) off = buf.writeDoubleLE(v, off);
  return buf;
}

/** Reads statistics written by encodeStats; throws on a foreign, truncated or padded buffer. */
export function decodeStats(buf: Uint8Array): FeatureStats {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES || b.toString("latin1", 0, MAGIC.length) !== MAGIC) {
    throw new Error(`decodeStats: not a unetc FID statistics file (no "${MAGIC}" header)`);
  }
  const version = b.readUInt32LE(8);
  if (version !== VERSION) {
    throw new Error(`decodeStats: unsupported FID statistics version ${version} (this build reads ${VERSION})`);
  }
  const dim = b.readUInt32LE(12);
  const n = b.readUInt32LE(16);
  if (dim < 1) throw new Error(`decodeStats: feature dimension is 0`);
  if (n < 2) throw new Error(`decodeStats: statistics claim ${n} feature vectors; at least 2 are needed`);
  const expected = HEADER_BYTES + 8 * (dim + dim * dim);
  if (b.length !== expected) {
    const what = b.length < expected ? "truncated" : "has trailing bytes";
    throw new Error(`decodeStats: file ${what}: dim ${dim} needs ${expected} bytes, got ${b.length}`);
  }
  const mean = new Float64Array(dim);
  const cov = new Float64Array(dim * dim);
  let off = HEADER_BYTES;
  for (let i = 0; i < dim; i++, off += 8) mean[i] = b.readDoubleLE(off);
  for (let i = 0; i < dim * dim; i++, off += 8) cov[i] = b.readDoubleLE(off);
  const stats = { n, dim, mean, cov };
  checkStats(stats, "decodeStats");
  return stats;
}

function checkFeatures(feats: Features, n: number, dim: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new Error(`${what}: bad shape [${n}, ${dim}]`);
  }
  if (feats.length !== n * dim) {
    throw new Error(`${what}: shape [${n}, ${dim}] needs ${n * dim} values, got ${feats.length}`);
  }
}

function checkStats(s: FeatureStats, what: string): void {
  if (!Number.isInteger(s.dim) || s.dim < 1) throw new Error(`${what}: bad feature dimension ${s.dim}`);
  if (!Number.isInteger(s.n) || s.n < 2 || s.n > 0xffffffff) throw new Error(`${what}: bad sample count ${s.n}`);
  if (s.mean.length !== s.dim) throw new Error(`${what}: mean has ${s.mean.length} entries, dim is ${s.dim}`);
  if (s.cov.length !== s.dim * s.dim) {
    throw new Error(`${what}: covariance has ${s.cov.length} entries, dim ${s.dim} needs ${s.dim * s.dim}`);
  }
  for (const v of s.mean) if (!Number.isFinite(v)) throw new Error(`${what}: mean holds a non-finite value`);
  for (const v of s.cov) if (!Number.isFinite(v)) throw new Error(`${what}: covariance holds a non-finite value`);
}

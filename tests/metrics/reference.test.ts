// unetc's FID and KID against PyTorch float64 values from tests/reference/fid_kid/make_vectors.py
// (the course's code ported to float64). A stale vectors.json is regenerated with that
// script, never edited by hand.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { featureStats, fid } from "../../runtime/metrics/fid.js";
import { kid, kidChunkBounds, kidChunkCount } from "../../runtime/metrics/kid.js";
import { traceSqrtProduct } from "../../runtime/metrics/linalg.js";

interface RefKid {
  maxs: number;
  chunks: number;
  x_bounds: number[];
  y_bounds: number[];
  kid: number;
}

interface RefCase {
  name: string;
  note: string;
  dim: number;
  nx: number;
  ny: number;
  mean_term: number;
  traces: number;
  trace_sqrt: number;
  trace_sqrt_eigvals: number;
  fid: number;
  fid_eigvals: number;
  kid: RefKid[];
  x: number[];
  y: number[];
}

const reference = JSON.parse(readFileSync("tests/reference/fid_kid/vectors.json", "utf8")) as { cases: RefCase[] };

/**
 * FID tolerance, relative. Where a covariance is rank deficient (fewer samples than dims), the
 * null eigenvalues of sqrt(c1) c2 sqrt(c1) come out as +-eps*||C|| in any implementation, and
 * their square roots (~1e-8 each) differ between eigensolvers: torch's own two routes to
 * tr sqrtm(c1 c2) differ by ~1e-8 relative there.
 */
function fidTolerance(c: RefCase): number {
  return Math.min(c.nx, c.ny) <= c.dim ? 1e-7 : 1e-9;
}

function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe.each(reference.cases)("reference $name ($note)", (c) => {
  const x = Float32Array.from(c.x);
  const y = Float32Array.from(c.y);
  const sx = featureStats(x, c.nx, c.dim);
  const sy = featureStats(y, c.ny, c.dim);

  it("matches torch's FID", () => {
    const tol = fidTolerance(c);
    expect(relErr(traceSqrtProduct(sx.cov, sy.cov, c.dim), c.trace_sqrt)).toBeLessThan(tol);
    expect(relErr(fid(sx, sy), c.fid)).toBeLessThan(tol);
    // The reference's own cross-check: eigvals of the non-symmetric c1 @ c2 agree.
    expect(relErr(c.fid_eigvals, c.fid)).toBeLessThan(tol);
  });

  it.each(c.kid)("matches the course's KID with maxs = $maxs", (r) => {
    expect(kidChunkCount(c.nx, c.ny, r.maxs)).toBe(r.chunks);
    expect(kidChunkBounds(c.nx, r.chunks)).toEqual(r.x_bounds);
    expect(kidChunkBounds(c.ny, r.chunks)).toEqual(r.y_bounds);
    expect(relErr(kid(x, c.nx, y, c.ny, c.dim, { maxChunk: r.maxs }), r.kid)).toBeLessThan(1e-9);
  });
});

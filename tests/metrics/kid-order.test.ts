// Why the reference features are stored in a shuffled order (runtime/metrics/reference.ts): KID
// compares chunk i of one set with chunk i of the other, so a set whose rows come grouped by
// class reads as a different distribution chunk by chunk, though it is the same set.
import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { kid } from "../../runtime/metrics/kid.js";

function mixture(n: number, dim: number, rng: Rng): { rows: Float64Array; cluster: number[] } {
  const rows = new Float64Array(n * dim);
  const cluster = Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 1));
  cluster.forEach((c, i) => {
    for (let t = 0; t < dim; t++) rows[i * dim + t] = (c ? 2 : -2) + rng.normal();
  });
  return { rows, cluster };
}

describe("KID and row order", () => {
  it("is near 0 for two samples of one mixture, and far from 0 when one sample is sorted by cluster", () => {
    const dim = 8;
    const rng = new Rng(5);
    const a = mixture(400, dim, rng);
    const b = mixture(400, dim, rng);
    const mixed = kid(a.rows, 400, b.rows, 400, dim);
    const order = b.cluster.map((c, i) => [c, i] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    const sorted = new Float64Array(400 * dim);
    order.forEach(([, i], k) => sorted.set(b.rows.subarray(i * dim, (i + 1) * dim), k * dim));
    const grouped = kid(a.rows, 400, sorted, 400, dim);
    expect(Math.abs(mixed)).toBeLessThan(0.1 * Math.abs(grouped));
    expect(grouped).toBeGreaterThan(0);
  });
});

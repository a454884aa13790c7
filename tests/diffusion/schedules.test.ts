import { describe, expect, it } from "vitest";
import { Rng, mixSeed } from "../../runtime/diffusion/rng.js";
import {
  abar,
  cosineNoisify,
  karrasNoisify,
  karrasScalings,
  sigmasKarras,
  COSINE_T_MAX,
} from "../../runtime/diffusion/schedules.js";

function meanStd(a: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return [m, Math.sqrt(v / a.length)];
}

describe("rng", () => {
  it("is reproducible and resumable from its state", () => {
    const a = new Rng(42);
    const first = [a.uniform(), a.uniform()];
    const saved = a.state;
    const next = a.uniform();
    expect(new Rng(42).uniform()).toBe(first[0]);
    expect(new Rng(saved).uniform()).toBe(next);
  });
  it("draws standard normals", () => {
    const [m, s] = meanStd(new Rng(1).fillNormal(new Float32Array(200_001)));
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(s - 1)).toBeLessThan(0.01);
  });
  it("mixes seeds into distinct streams", () => {
    const seeds = new Set([0, 1, 2, 3].flatMap((s) => [0, 1, 2, 3].map((e) => mixSeed(s, e))));
    expect(seeds.size).toBe(16);
  });
});

describe("cosine schedule", () => {
  it("abar(t) = cos(t*pi/2)^2", () => {
    expect(abar(0)).toBe(1);
    expect(abar(0.5)).toBeCloseTo(0.5, 15);
    expect(abar(1 / 3)).toBeCloseTo(0.75, 15); // cos(pi/6)^2
    expect(abar(1)).toBeCloseTo(0, 15);
  });

  it("noisify: xt = sqrt(abar)*x0 + sqrt(1-abar)*eps, t in [0, 0.999], target eps, seeded", () => {
    const batch = 64;
    const n = 32;
    const x0 = new Rng(7).fillNormal(new Float32Array(batch * n), 0.3);
    const out = cosineNoisify(x0, batch, new Rng(3));
    const again = cosineNoisify(x0, batch, new Rng(3));
    expect(again.x).toEqual(out.x);
    for (let b = 0; b < batch; b++) {
      const t = out.t[b];
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThanOrEqual(COSINE_T_MAX);
      const a = abar(t);
      for (let i = b * n; i < (b + 1) * n; i++) {
        expect(out.x[i]).toBeCloseTo(Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * out.target[i], 5);
      }
    }
    // t ~ U[0, 1): its mean is about 0.5 over many draws.
    const many = cosineNoisify(new Float32Array(4000), 4000, new Rng(9));
    expect(Math.abs(meanStd(many.t)[0] - 0.5)).toBeLessThan(0.02);
  });

  it("noisify reuses caller buffers", () => {
    const x0 = new Float32Array(8);
    const buf = { x: new Float32Array(8), t: new Float32Array(2), target: new Float32Array(8) };
    expect(cosineNoisify(x0, 2, new Rng(1), buf).x).toBe(buf.x);
    expect(() => cosineNoisify(x0, 3, new Rng(1))).toThrow(/batch of 3/);
  });
});

describe("Karras schedule", () => {
  it("scalings match the closed form at sigma = sigma_data and the limits", () => {
    const s = karrasScalings(0.66);
    expect(s.cSkip).toBeCloseTo(0.5, 15);
    expect(s.cOut).toBeCloseTo(0.66 / Math.SQRT2, 15);
    expect(s.cIn).toBeCloseTo(1 / (0.66 * Math.SQRT2), 15);
    const g = karrasScalings(2, 1); // totvar 5
    expect(g.cSkip).toBeCloseTo(1 / 5, 15);
    expect(g.cOut).toBeCloseTo(2 / Math.sqrt(5), 15);
    expect(g.cIn).toBeCloseTo(1 / Math.sqrt(5), 15);
    expect(karrasScalings(0).cSkip).toBe(1); // no noise: the skip path is the identity
  });

  it("noisify gives unit-variance inputs and targets for data of std sigma_data", () => {
    const batch = 20_000;
    const n = 4;
    const x0 = new Rng(5).fillNormal(new Float32Array(batch * n), 0.66);
    const out = karrasNoisify(x0, batch, new Rng(6));
    // log sigma ~ N(-1.2, 1.2)
    const [lm, ls] = meanStd(Array.from(out.t, Math.log));
    expect(lm).toBeCloseTo(-1.2, 1);
    expect(ls).toBeCloseTo(1.2, 1);
    expect(meanStd(out.x)[1]).toBeCloseTo(1, 1);
    expect(meanStd(out.target)[1]).toBeCloseTo(1, 1);
    // And the defining identity: denoise(x) = F*c_out + x*c_skip recovers x0 when F = target.
    for (let b = 0; b < 50; b++) {
      const { cSkip, cOut, cIn } = karrasScalings(out.t[b]);
      for (let i = b * n; i < (b + 1) * n; i++) {
        expect(out.target[i] * cOut + (out.x[i] / cIn) * cSkip).toBeCloseTo(x0[i], 4);
      }
    }
  });

  it("sigmas_karras matches the formula and ends with 0", () => {
    const s = sigmasKarras(5);
    expect(s.length).toBe(6);
    expect(s[0]).toBeCloseTo(80, 10);
    expect(s[2]).toBeCloseTo(3.460342172456261, 12); // (80^(1/7) + 0.5*(0.01^(1/7) - 80^(1/7)))^7
    expect(s[1]).toBeCloseTo(19.813775587848156, 11);
    expect(s[4]).toBeCloseTo(0.01, 14);
    expect(s[5]).toBe(0);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThan(s[i - 1]);
  });
});

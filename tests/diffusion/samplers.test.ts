import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { abar, sigmasKarras } from "../../runtime/diffusion/schedules.js";
import {
  ancestralStep,
  ddimNextAbar,
  ddimSigma,
  ddimStep,
  ddimTimesteps,
  lmsCoefficient,
  sample,
  sampleDdim,
  sampleKarras,
  type Denoiser,
  type SamplerKind,
} from "../../runtime/diffusion/samplers.js";
import { cosineOracle, exactFlow, gaussianCosineOracle, gaussianKarrasOracle, karrasOracle } from "./oracle.js";

const xt = Float32Array.of(0.3, 2.0, -3.0);
const noise = Float32Array.of(0.5, 0.5, 0.5); // a constant noise prediction
const z = Float32Array.of(1.0, -2.0, 0.5);
// Hand values (Python, float64): x0_hat = (x_t - sqrt(0.5)*0.5)/sqrt(0.5), clamped to [-1, 1].
const x0Expected = [-0.07573593128807153, 1, -1];

function expectClose(actual: Float32Array, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
}

describe("ddim_step", () => {
  it("eta 0: deterministic, x0_hat clamped", () => {
    const r = ddimStep(xt, noise, 0.5, 0.8, { eta: 0, z });
    expect(r.sigma).toBe(0);
    expectClose(r.x0Hat, x0Expected);
    expectClose(r.xNext, [0.15586652147022648, 1.118033988749895, -0.6708203932499369]);
  });

  it("eta 1: sig = sqrt(bbar_t1/bbar_t)*sqrt(1-abar_t/abar_t1), plus sig*z", () => {
    expect(ddimSigma(0.5, 0.8, 1)).toBeCloseTo(0.3872983346207416, 14);
    const r = ddimStep(xt, noise, 0.5, 0.8, { eta: 1, z });
    expect(r.sigma).toBeCloseTo(0.3872983346207416, 14);
    expectClose(r.x0Hat, x0Expected);
    expectClose(r.xNext, [0.4313614572159787, 0.23163392063342214, -0.5889746248145555]);
  });

  it("sig is set to 0 when bbar_t1 <= sig^2 + 0.01", () => {
    expect(ddimSigma(0.5, 0.95, 1)).toBeCloseTo(0.21764287503300359, 14); // 0.05 <= 0.0474 + 0.01
    const r = ddimStep(xt, noise, 0.5, 0.95, { eta: 1, z });
    expect(r.sigma).toBe(0);
    expectClose(r.xNext, [0.03798514419724795, 1.0864828333558858, -0.8628760356059068]);
  });

  it("without the clamp x0_hat is the raw estimate", () => {
    const r = ddimStep(xt, noise, 0.5, 0.8, { eta: 0, clamp: false });
    expect(r.x0Hat[1]).toBeCloseTo(2 * Math.SQRT2 - 0.5, 6);
  });

  it("the last step (t = 0, abar_t1 = 1) gives x0_hat = x_t and a finite x_t1", () => {
    const r = ddimStep(Float32Array.of(0.25), Float32Array.of(3), abar(0), 1, { eta: 1 });
    expect(r.x0Hat[0]).toBeCloseTo(0.25, 7);
    expect(r.xNext[0]).toBeCloseTo(0.25, 7);
  });

  it("time grid: linspace(1-1/steps, 0, steps) and abar_t1 = abar(t - 1/steps) or 1", () => {
    expect(Array.from(ddimTimesteps(4))).toEqual([0.75, 0.5, 0.25, 0]);
    expect(Array.from(ddimTimesteps(1))).toEqual([0]);
    const ts = ddimTimesteps(100);
    expect(ts[0]).toBeCloseTo(0.99, 15);
    expect(ddimNextAbar(ts[98], 100)).toBeCloseTo(abar(0), 12); // t = 1/steps (up to rounding)
    expect(ddimNextAbar(ts[99], 100)).toBe(1);
    expect(ddimNextAbar(0.5, 4)).toBeCloseTo(abar(0.25), 15);
  });
});

describe("Karras helpers", () => {
  it("LMS coefficients: order 1 is Euler, and each order's coefficients sum to the step", () => {
    const s = sigmasKarras(10);
    expect(lmsCoefficient(1, s, 3, 0)).toBeCloseTo(s[4] - s[3], 12);
    for (const order of [2, 3, 4]) {
      let sum = 0;
      for (let j = 0; j < order; j++) sum += lmsCoefficient(order, s, 5, j);
      expect(sum).toBeCloseTo(s[6] - s[5], 10);
    }
    expect(() => lmsCoefficient(3, s, 1, 0)).toThrow(/too high/);
  });

  it("ancestral step preserves variance: down^2 + up^2 = to^2", () => {
    const { sigmaDown, sigmaUp } = ancestralStep(2, 1);
    expect(sigmaDown ** 2 + sigmaUp ** 2).toBeCloseTo(1, 12);
    expect(ancestralStep(2, 1, 0)).toEqual({ sigmaDown: 1, sigmaUp: 0 });
    expect(ancestralStep(2, 0).sigmaDown).toBe(0);
  });
});

const DIM = 16;
const constant = (v: number): Float32Array => new Float32Array(DIM).fill(v);

function distanceTo(x: Float32Array, b: number, p: Float32Array): number {
  let m = 0;
  for (let i = 0; i < DIM; i++) m = Math.max(m, Math.abs(x[b * DIM + i] - p[i]));
  return m;
}

describe("integrator accuracy against the exact probability-flow ODE (Gaussian data)", () => {
  const B = 8;
  // Max error over the batch of the sampler's state vs the closed-form ODE solution.
  async function ddimError(steps: number): Promise<number> {
    const mu = 0.1;
    const s = 0.2;
    const r = await sampleDdim(gaussianCosineOracle(mu, s), { shape: [B, 1], steps, eta: 0, clamp: false, seed: 3 });
    const xT = new Rng(3).fillNormal(new Float32Array(B));
    const a = abar(1 - 1 / steps); // DDIM works on y = x_t/sqrt(abar) at sigma = sqrt((1-abar)/abar)
    let err = 0;
    for (let b = 0; b < B; b++) {
      err = Math.max(err, Math.abs(r.x0[b] - exactFlow(xT[b] / Math.sqrt(a), Math.sqrt((1 - a) / a), 0, mu, s)));
    }
    return err;
  }
  async function karrasError(sampler: "euler" | "heun" | "lms", steps: number): Promise<number> {
    const mu = 0.3;
    const s = 0.5;
    const r = await sampleKarras(gaussianKarrasOracle(mu, s), { sampler, shape: [B, 1], steps, seed: 3, keepIntermediates: true });
    const xT = new Rng(3).fillNormal(new Float32Array(B), 80);
    const sigmas = sigmasKarras(steps);
    const atMin = r.intermediates?.[steps - 2] ?? new Float32Array(B); // the state at sigma_min
    let err = 0;
    for (let b = 0; b < B; b++) err = Math.max(err, Math.abs(atMin[b] - exactFlow(xT[b], 80, sigmas[steps - 1], mu, s)));
    return err;
  }

  it("DDIM (eta 0) converges at first order", async () => {
    const ratio = (await ddimError(50)) / (await ddimError(100));
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
    expect(await ddimError(100)).toBeLessThan(0.01);
  });

  it("Euler converges at first order, Heun at second, LMS(4) faster still", async () => {
    const euler = (await karrasError("euler", 20)) / (await karrasError("euler", 40));
    expect(euler).toBeGreaterThan(1.7);
    expect(euler).toBeLessThan(2.3);
    expect((await karrasError("heun", 20)) / (await karrasError("heun", 40))).toBeGreaterThan(3.5);
    expect((await karrasError("lms", 20)) / (await karrasError("lms", 40))).toBeGreaterThan(5);
    expect(await karrasError("heun", 40)).toBeLessThan(0.01);
    expect(await karrasError("lms", 40)).toBeLessThan(0.003);
  });
});

describe("samplers with an oracle denoiser", () => {
  it("DDIM (eta 0 and 1) lands exactly on a single data point", async () => {
    const point = constant(0.3);
    for (const eta of [0, 1]) {
      const r = await sampleDdim(cosineOracle([point]), { shape: [4, 1, 4, 4], steps: 20, eta, seed: 1 });
      for (let b = 0; b < 4; b++) expect(distanceTo(r.x0, b, point)).toBeLessThan(1e-5);
    }
  });

  const cases: { sampler: SamplerKind; steps: number; points: Float32Array[] }[] = [
    { sampler: "ddim", steps: 50, points: [constant(0.4), constant(-0.3)] },
    { sampler: "ddpm", steps: 50, points: [constant(0.4), constant(-0.3)] },
    { sampler: "euler", steps: 50, points: [constant(0.8), constant(-0.6)] },
    { sampler: "euler_ancestral", steps: 50, points: [constant(0.8), constant(-0.6)] },
    { sampler: "heun", steps: 25, points: [constant(0.8), constant(-0.6)] },
    { sampler: "lms", steps: 25, points: [constant(0.8), constant(-0.6)] },
  ];
  for (const { sampler, steps, points } of cases) {
    it(`${sampler}: every sample lands on one of two data points, both are reached`, async () => {
      const karras = !(sampler === "ddim" || sampler === "ddpm");
      const model: Denoiser = karras ? karrasOracle(points) : cosineOracle(points);
      const batch = 64;
      const r = await sample(model, { sampler, shape: [batch, 1, 4, 4], steps, seed: 11, eta: sampler === "ddim" ? 0 : 1 });
      // sample() returns [-1, 1]: DDIM/DDPM output is the lesson's preds[-1]*2.
      const scaled = karras ? points : points.map((p) => p.map((v) => v * 2));
      let first = 0;
      for (let b = 0; b < batch; b++) {
        const d0 = distanceTo(r.x0, b, scaled[0]);
        const d1 = distanceTo(r.x0, b, scaled[1]);
        expect(Math.min(d0, d1)).toBeLessThan(2e-3);
        if (d0 < d1) first++;
      }
      expect(first).toBeGreaterThan(16);
      expect(first).toBeLessThan(48);
    });
  }

  it("counts evaluations, keeps intermediates, passes classes and is seeded", async () => {
    const seen: number[] = [];
    const model: Denoiser = async (x, t, c) => {
      seen.push(t[0]);
      expect(Array.from(c ?? [])).toEqual([3, 7]);
      return new Float32Array(x.length);
    };
    const classes = Int32Array.of(3, 7);
    const heun = await sampleKarras(model, { sampler: "heun", shape: [2, 4], steps: 5, classes, keepIntermediates: true });
    expect(heun.evaluations).toBe(9); // 2 per step, 1 on the last (sigma -> 0)
    expect(heun.intermediates?.length).toBe(5);
    expect(seen[0]).toBeCloseTo(80, 4);
    const a = await sampleDdim(model, { shape: [2, 4], steps: 3, eta: 1, seed: 5, classes });
    const b = await sampleDdim(model, { shape: [2, 4], steps: 3, eta: 1, rng: new Rng(5), classes });
    expect(b.x0).toEqual(a.x0);
    await expect(sampleDdim(model, { shape: [3, 4], steps: 3, eta: 1, classes })).rejects.toThrow(/class labels/);
  });
});

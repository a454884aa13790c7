// The denoising trajectory: which steps it shows, and that the recorder wrapped around the model
// captures x_t (in [-1, 1]) of the chosen images at those steps, then the result, without changing
// what the sampler computes.
import { describe, expect, it } from "vitest";
import { sample, type Denoiser } from "../../runtime/diffusion/samplers.js";
import { recordTrajectory, trajectorySteps } from "../../runtime/sample/trajectory.js";

describe("trajectory", () => {
  it("spreads the columns over the steps, first and last included", () => {
    expect(trajectorySteps(100, 7)).toEqual([0, 17, 33, 50, 66, 83, 99]);
    expect(trajectorySteps(5, 7)).toEqual([0, 1, 2, 3, 4]);
    expect(trajectorySteps(1, 7)).toEqual([0]);
    expect(trajectorySteps(10, 1)).toEqual([0]);
  });

  for (const sampler of ["ddim", "heun"] as const) {
    it(`${sampler}: records the model's x_t of the chosen images, and the result last`, async () => {
      const per = 4;
      const seen: { x: Float32Array; t: number }[] = [];
      // A model that predicts zeros, and remembers what it was given.
      const model: Denoiser = async (x, t) => {
        seen.push({ x: Float32Array.from(x), t: t[0] });
        return new Float32Array(x.length);
      };
      const o = { sampler, shape: [3, 1, 2, 2], steps: 6, seed: 1 };
      const plain = await sample(async (x) => new Float32Array(x.length), o);
      const rec = recordTrajectory(model, { sampler, steps: 6, perImage: per, request: { images: [2, 0], columns: 4 } });
      const r = await sample(rec.denoise, { ...o, onStep: (i) => rec.onStep(i) });
      expect(Array.from(r.x0)).toEqual(Array.from(plain.x0)); // recording changes nothing
      const t = rec.finish(r.x0);
      expect([t.rows, t.cols, t.steps, t.totalSteps, t.karras]).toEqual([2, 4, [1, 4, 6], 6, sampler === "heun"]);
      // The first model call of step s (0-based) is the one recorded.
      const firstCalls = sampler === "ddim" ? seen : seen.filter((_, i) => i % 2 === 0); // heun: 2 calls a step (1 on the last)
      const calls = [0, 3, 5].map((s) => firstCalls[s]);
      expect(t.levels).toEqual(calls.map((c) => c.t));
      const k = (c: { t: number }) => (sampler === "ddim" ? 2 : Math.sqrt(c.t * c.t + 0.66 * 0.66)); // back from [-0.5, 0.5], or from x * c_in
      [2, 0].forEach((img, row) => {
        calls.forEach((c, col) => {
          const got = Array.from(t.frames.subarray((row * 4 + col) * per, (row * 4 + col + 1) * per));
          const want = Array.from(c.x.subarray(img * per, (img + 1) * per), (v) => v * k(c));
          got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
        });
        expect(Array.from(t.frames.subarray((row * 4 + 3) * per, (row * 4 + 4) * per))).toEqual(Array.from(r.x0.subarray(img * per, (img + 1) * per)));
      });
    });
  }
});

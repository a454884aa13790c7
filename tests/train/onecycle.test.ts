// OneCycle against PyTorch's OneCycleLR formulas (torch 1.13, defaults: pct_start 0.3,
// div_factor 25, final_div_factor 1e4, cosine anneal, beta1 cycled 0.95 -> 0.85 -> 0.95).
// Expected numbers were computed by hand from the formulas (python3, float64):
//   initial = 0.01/25 = 4e-4, min = 4e-8; phase 1 ends at step 0.3*100 - 1 = 29,
//   phase 2 runs from 29 to 99; anneal(a, b, p) = b + (a - b)/2 * (cos(pi*p) + 1).
import { describe, expect, it } from "vitest";
import { annealCos, oneCycleAt, oneCycleState } from "../../runtime/train/onecycle.js";

describe("OneCycle (PyTorch's formulas)", () => {
  const s = oneCycleState({ maxLr: 0.01, totalSteps: 100 });

  it("has PyTorch's defaults", () => {
    expect(s).toMatchObject({ pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, baseMomentum: 0.85, maxMomentum: 0.95, anneal: "cos" });
  });

  it.each([
    // step, lr, beta1
    [0, 0.0003999999999999993, 0.95],
    [10, 0.002951639484641007, 0.9234204220349895], // phase 1, pct 10/29
    [29, 0.01, 0.85], // the peak
    [30, 0.009994965352845242, 0.8500503466729342], // phase 2, pct 1/70
    [64, 0.00500002, 0.9], // halfway down: (max + min)/2
    [99, 4e-8, 0.95], // the last update: min lr
  ])("step %i of 100: lr %f, beta1 %f", (step, lr, beta1) => {
    const v = oneCycleAt(s, step);
    expect(v.lr).toBeCloseTo(lr, 15);
    expect(v.beta1).toBeCloseTo(beta1, 13);
  });

  it("a 10-step schedule (phase 1 ends at step 2)", () => {
    const t = oneCycleState({ maxLr: 0.01, totalSteps: 10 });
    expect(oneCycleAt(t, 1).lr).toBeCloseTo(0.0052, 15);
    expect(oneCycleAt(t, 1).beta1).toBeCloseTo(0.9, 13);
    expect(oneCycleAt(t, 5).lr).toBeCloseTo(0.0061126202193628925, 15);
    expect(oneCycleAt(t, 5).beta1).toBeCloseTo(0.8888739533021842, 13);
    expect(oneCycleAt(t, 8).lr).toBeCloseTo(0.0004951936798652628, 15);
  });

  it("lr rises monotonically to the peak and falls after it; beta1 mirrors it", () => {
    const lrs = Array.from({ length: 100 }, (_, i) => oneCycleAt(s, i));
    for (let i = 1; i < 100; i++) {
      if (i <= 29) expect(lrs[i].lr).toBeGreaterThan(lrs[i - 1].lr);
      else expect(lrs[i].lr).toBeLessThan(lrs[i - 1].lr);
      expect(Math.sign(lrs[i].beta1 - lrs[i - 1].beta1)).toBe(-Math.sign(lrs[i].lr - lrs[i - 1].lr));
    }
  });

  it("cosine annealing and the step limit match PyTorch", () => {
    expect(annealCos(1, 0, 0)).toBe(1);
    expect(annealCos(1, 0, 0.5)).toBeCloseTo(0.5, 15);
    expect(annealCos(1, 0, 1)).toBe(0);
    expect(() => oneCycleAt(s, 100)).not.toThrow(); // PyTorch allows step == total_steps
    expect(() => oneCycleAt(s, 101)).toThrow(/tried to step 101 times/);
  });
});

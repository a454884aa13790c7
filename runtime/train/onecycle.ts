// The one-cycle learning-rate policy with PyTorch's formulas (torch.optim.lr_scheduler.OneCycleLR,
// 1.13, two phases, cosine annealing, cycle_momentum on Adam's beta1):
//   initial_lr = max_lr / div_factor            min_lr = initial_lr / final_div_factor
//   phase 1: steps 0 .. pct_start*total - 1     lr initial -> max,  beta1 max_m -> base_m
//   phase 2: from that step .. total - 1        lr max -> min,      beta1 base_m -> max_m
//   pct = (step - phase_start) / (phase_end - phase_start)
//   cos anneal(start, end, pct) = end + (start - end)/2 * (cos(pi*pct) + 1)
// PyTorch calls step() once in the constructor, so optimizer update k (1-based) runs with the
// values at step k - 1: `oneCycleAt(k - 1)`. The scheduler steps once per batch (the lesson's
// BatchSchedCB); asking for a step past `total_steps` is an error, as in PyTorch.

export interface OneCycleOptions {
  readonly maxLr: number;
  readonly totalSteps: number;
  /** Default 0.3. */
  readonly pctStart?: number;
  /** Default 25. */
  readonly divFactor?: number;
  /** Default 1e4. */
  readonly finalDivFactor?: number;
  /** Default 0.85. */
  readonly baseMomentum?: number;
  /** Default 0.95. */
  readonly maxMomentum?: number;
  /** Default "cos" (PyTorch's default); "linear" is PyTorch's other choice. */
  readonly anneal?: "cos" | "linear";
}

/** A schedule's full state (it has no hidden state: the step index determines everything). */
export interface OneCycleState {
  readonly kind: "onecycle";
  readonly maxLr: number;
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly divFactor: number;
  readonly finalDivFactor: number;
  readonly baseMomentum: number;
  readonly maxMomentum: number;
  readonly anneal: "cos" | "linear";
}

export function oneCycleState(o: OneCycleOptions): OneCycleState {
  const s: OneCycleState = {
    kind: "onecycle",
    maxLr: o.maxLr,
    totalSteps: o.totalSteps,
    pctStart: o.pctStart ?? 0.3,
    divFactor: o.divFactor ?? 25,
    finalDivFactor: o.finalDivFactor ?? 1e4,
    baseMomentum: o.baseMomentum ?? 0.85,
    maxMomentum: o.maxMomentum ?? 0.95,
    anneal: o.anneal ?? "cos",
  };
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1) throw new RangeError(`OneCycle: total steps must be a positive integer, got ${s.totalSteps}`);
  if (!(s.maxLr > 0)) throw new RangeError(`OneCycle: max lr must be positive, got ${s.maxLr}`);
  if (!(s.pctStart >= 0 && s.pctStart <= 1)) throw new RangeError(`OneCycle: pct_start must be in [0, 1], got ${s.pctStart}`);
  return s;
}

export const annealCos = (start: number, end: number, pct: number): number => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
export const annealLinear = (start: number, end: number, pct: number): number => (end - start) * pct + start;

/** lr and beta1 at scheduler step `step` (0-based; update k uses step k - 1). */
export function oneCycleAt(s: OneCycleState, step: number): { lr: number; beta1: number } {
  if (step > s.totalSteps) {
    throw new RangeError(`OneCycle: tried to step ${step} times; the schedule has ${s.totalSteps} total steps`);
  }
  const initialLr = s.maxLr / s.divFactor;
  const minLr = initialLr / s.finalDivFactor;
  const phases = [
    { end: s.pctStart * s.totalSteps - 1, lr: [initialLr, s.maxLr], m: [s.maxMomentum, s.baseMomentum] },
    { end: s.totalSteps - 1, lr: [s.maxLr, minLr], m: [s.baseMomentum, s.maxMomentum] },
  ];
  const anneal = s.anneal === "cos" ? annealCos : annealLinear;
  let start = 0;
  for (let i = 0; i < phases.length; i++) {
    const p = phases[i];
    if (step <= p.end || i === phases.length - 1) {
      const pct = (step - start) / (p.end - start);
      return { lr: anneal(p.lr[0], p.lr[1], pct), beta1: anneal(p.m[0], p.m[1], pct) };
    }
    start = p.end;
  }
  throw new Error("unreachable");
}

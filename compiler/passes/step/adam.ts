// Adam and AdamW updates as graph ops, with PyTorch's (1.13, single-tensor) semantics:
//   g' = g + wd * p                  (Adam: weight decay as L2 in the gradient)
//   p' = p * (1 - lr * wd)           (AdamW: decoupled decay, applied before the step)
//   m  = beta1 * m + (1 - beta1) * g'
//   v  = beta2 * v + (1 - beta2) * g'^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Hyper-parameters are scalar graph inputs so a schedule (OneCycle moves lr and beta1)
// changes them per step without recompiling. `step` is t, the 1-based count of this update.

import type { GraphBuilder } from "../../graph/builder.js";
import type { Value } from "../../ir/value.js";

export type OptimizerKind = "adam" | "adamw";

import { HYPER_PARAMS, type HyperParam } from "../../ir/step-contract.js";

/** Scalars shared by every parameter's update, computed once per step. */
export interface AdamScalars {
  readonly lr: Value;
  readonly beta1: Value;
  readonly beta2: Value;
  readonly oneMinusBeta1: Value;
  readonly oneMinusBeta2: Value;
  readonly weightDecay: Value;
  readonly eps: Value;
  /** lr / (1 - beta1^t) */
  readonly stepSize: Value;
  /** sqrt(1 - beta2^t) */
  readonly bias2Sqrt: Value;
  /** 1 - lr * wd (AdamW) */
  readonly decay: Value;
}

export function adamScalars(b: GraphBuilder): AdamScalars {
  const hp = Object.fromEntries(HYPER_PARAMS.map((name) => [name, b.lookup(name) ?? b.scalar(name)])) as Record<HyperParam, Value>;
  // beta^t = exp(t * ln beta): the graph has no pow primitive and beta is in (0, 1)
  const pow = (beta: Value): Value => b.exp(b.mul(hp.step, b.log(beta)));
  return {
    lr: hp.lr,
    beta1: hp.beta1,
    beta2: hp.beta2,
    oneMinusBeta1: b.sub(1, hp.beta1),
    oneMinusBeta2: b.sub(1, hp.beta2),
    weightDecay: hp.weight_decay,
    eps: hp.eps,
    stepSize: b.div(hp.lr, b.sub(1, pow(hp.beta1))),
    bias2Sqrt: b.sqrt(b.sub(1, pow(hp.beta2))),
    decay: b.sub(1, b.mul(hp.lr, hp.weight_decay)),
  };
}

export interface AdamState {
  readonly param: Value;
  readonly m: Value;
  readonly v: Value;
}

/**
 * One parameter's update; returns the new parameter and moments. `perMoment`: Adam's g' is
 * built once for each moment, so that with one reader each copy fuses into its moment's kernel
 * (2 flops again) instead of being a kernel of its own, stored and read back (nothing merges
 * equal nodes; config S: 172 fewer kernels a step). --opt 0 builds it once.
 */
export function adamUpdate(b: GraphBuilder, kind: OptimizerKind, s: AdamScalars, state: AdamState, grad: Value, perMoment = true): AdamState {
  const { param: p, m, v } = state;
  const once = kind === "adam" && !perMoment ? b.add(grad, b.mul(p, s.weightDecay)) : null;
  const g = () => once ?? (kind === "adam" ? b.add(grad, b.mul(p, s.weightDecay)) : grad);
  const decayed = kind === "adamw" ? b.mul(p, s.decay) : p;
  const m1 = b.add(b.mul(m, s.beta1), b.mul(g(), s.oneMinusBeta1));
  const v1 = b.add(b.mul(v, s.beta2), b.mul(b.square(g()), s.oneMinusBeta2));
  const denom = b.add(b.div(b.sqrt(v1), s.bias2Sqrt), s.eps);
  const p1 = b.sub(decayed, b.mul(b.div(m1, denom), s.stepSize));
  return { param: p1, m: m1, v: v1 };
}

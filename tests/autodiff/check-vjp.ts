// check_vjp (JAX public_test_util): compares <u, vjp(w)> with the central difference
// <(f(x + eps u) - f(x - eps u)) / 2 eps, w> in one seeded random direction, on the
// reference interpreter in float64. One scalar per check, so any op or composite costs
// two forward runs and one gradient run.

import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { DType, Graph, Shape } from "../../compiler/ir/types.js";
import type { Value } from "../../compiler/ir/value.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { numel } from "../../compiler/ir/shape.js";
import { gradGraph } from "../../compiler/passes/autodiff/index.js";
import { runGraph } from "../../runtime/reference/interpreter.js";
import { Rng } from "../../runtime/diffusion/rng.js";

/** Seeded uniform [0, 1): the runtime's generator (mulberry32). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Where an input's random values come from. */
export type Domain =
  | "normal" // N(0, 1)
  | "positive" // U[0.5, 2]: log, sqrt, rsqrt, divisors
  | "nonzero" // +-U[0.2, 2]: away from the kinks of relu, step, max
  | { readonly indices: number }; // i32 in [0, n)

export interface InputSpec {
  readonly shape: Shape;
  readonly domain?: Domain;
}

export interface VjpCheckOptions {
  readonly seed?: number;
  readonly eps?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

export interface VjpCheckResult {
  readonly analytic: number;
  readonly numeric: number;
  readonly ok: boolean;
  readonly forward: Graph;
  readonly backward: Graph;
}

export function sample(shape: Shape, domain: Domain, rand: () => number): Tensor {
  const n = numel(shape);
  if (typeof domain === "object") return { shape, data: Int32Array.from({ length: n }, () => Math.floor(rand() * domain.indices)) };
  const draw = {
    normal: () => normal(rand),
    positive: () => 0.5 + 1.5 * rand(),
    nonzero: () => (rand() < 0.5 ? -1 : 1) * (0.2 + 1.8 * rand()),
  }[domain];
  return { shape, data: Float64Array.from({ length: n }, draw) };
}

const dtypeOf = (d: Domain | undefined): DType => (typeof d === "object" ? "i32" : "f32");

export function checkVjp(
  build: (b: GraphBuilder, xs: Value[]) => Value,
  specs: readonly InputSpec[],
  opts: VjpCheckOptions = {},
): VjpCheckResult {
  const { seed = 0, eps = 1e-6, rtol = 1e-6, atol = 1e-9 } = opts;
  const b = new GraphBuilder();
  const xs = specs.map((s, i) => b.input(`x${i}`, s.shape, dtypeOf(s.domain)));
  b.output("y", build(b, xs));
  const forward = b.build();
  verifyGraph(forward, "test forward");
  const floatNames = specs.flatMap((s, i) => (dtypeOf(s.domain) === "f32" ? [`x${i}`] : []));
  const backward = gradGraph(forward, { of: "y", wrt: floatNames, seedInput: "w" });
  verifyGraph(backward, "autodiff");

  const rand = rng(seed);
  const x = new Map(specs.map((s, i) => [`x${i}`, sample(s.shape, s.domain ?? "normal", rand)]));
  const u = new Map(floatNames.map((name) => [name, sample(x.get(name)!.shape, "normal", rand)]));
  const yShape = forward.nodes[forward.outputs[0].value].shape;
  const w = sample(yShape, "normal", rand);

  const grads = runGraph(backward, new Map([...x, ["w", w]]), { precision: "f64" }).outputs;
  const analytic = floatNames.reduce((acc, name) => acc + dot(u.get(name)!, grads[`grad.${name}`]), 0);

  const shifted = (sign: number): number => {
    const feeds = new Map(x);
    for (const name of floatNames) {
      const xi = x.get(name)!.data;
      const ui = u.get(name)!.data;
      feeds.set(name, { shape: x.get(name)!.shape, data: Float64Array.from(xi, (v, k) => v + sign * eps * ui[k]) });
    }
    return dot(runGraph(forward, feeds, { precision: "f64" }).outputs.y, w);
  };
  const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
  const ok = Math.abs(analytic - numeric) <= atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric));
  return { analytic, numeric, ok, forward, backward };
}

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

// crossEntropyLoss (log-softmax via a max shift, composed of primitives): its value equals a direct
// float64 log-sum-exp, large logits included; its gradient through the autodiff is
// (softmax - target) / N and agrees with central differences; the same graph on WebGPU matches the
// reference interpreter, value and gradient.
import { describe, expect, it } from "vitest";
import { gradGraph } from "../../compiler/passes/autodiff/index.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { crossEntropyLoss } from "../../compiler/graph/composites/layers.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { runGraph, type Precision } from "../../runtime/reference/interpreter.js";
import { compileGraph } from "../../compiler/compile.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { checkVjp } from "../autodiff/check-vjp.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const N = 6;
const K = 7;

/** The loss as a graph of logits [N, K] and target [N, K]. */
function lossGraph(n = N, k = K): Graph {
  const b = new GraphBuilder();
  const logits = b.input("logits", [n, k]);
  const target = b.input("target", [n, k]);
  b.output("loss", crossEntropyLoss(b, logits, target));
  const g = b.build();
  verifyGraph(g, "crossEntropyLoss");
  return g;
}

const withGrad = (g: Graph): Graph => gradGraph(g, { of: "loss", wrt: ["logits", "target"] });

/** Seeded logits: uniform in [-scale, scale], and one row of huge ones (exp would overflow even in float64). */
function randomLogits(rng: Rng, scale: number): Float64Array {
  const x = Float64Array.from({ length: N * K }, () => scale * (2 * rng.uniform() - 1));
  for (let k = 0; k < K; k++) x[(N - 1) * K + k] = 1000 + 40 * rng.uniform();
  return x;
}

/** Seeded soft targets: each row a probability vector, one row one-hot. */
function softTargets(rng: Rng): Float64Array {
  const t = new Float64Array(N * K);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += t[i * K + k] = rng.uniform() ** 2;
    for (let k = 0; k < K; k++) t[i * K + k] /= s;
  }
  t.fill(0, 0, K);
  t[3] = 1;
  return t;
}

/** float64: per row logsumexp(x) - sum_k t_k x_k (= -sum_k t_k log softmax_k when sum t = 1), and softmax. */
function direct(x: ArrayLike<number>, t: ArrayLike<number>): { loss: number; softmax: Float64Array } {
  const softmax = new Float64Array(N * K);
  let total = 0;
  for (let i = 0; i < N; i++) {
    const row = Array.from({ length: K }, (_, k) => x[i * K + k]);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let k = 0; k < K; k++) {
      softmax[i * K + k] = Math.exp(row[k] - lse);
      total += t[i * K + k] * (lse - row[k]);
    }
  }
  return { loss: total / N, softmax };
}

const feeds = (x: ArrayLike<number>, t: ArrayLike<number>, f64: boolean) => {
  const make = (d: ArrayLike<number>): Tensor => ({ shape: [N, K], data: f64 ? Float64Array.from(d) : Float32Array.from(d) });
  return { logits: make(x), target: make(t) };
};

const run = (g: Graph, x: ArrayLike<number>, t: ArrayLike<number>, precision: Precision) => runGraph(g, feeds(x, t, precision === "f64"), { precision }).outputs;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe("crossEntropyLoss on the reference interpreter", () => {
  it.each([
    [1, 3],
    [2, 20],
    [3, 80],
  ])("equals mean over rows of logsumexp - logit[label] (seed %i, logits in +-%i and a row near 1000)", (seed, scale) => {
    const rng = new Rng(seed);
    const x = randomLogits(rng, scale);
    const t = softTargets(rng);
    const want = direct(x, t).loss;
    const g = lossGraph();
    const f64 = run(g, x, t, "f64").loss;
    expect(f64.shape).toEqual([]);
    expect(Math.abs(f64.data[0] - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
    // float32: logits near 1000 carry ~6e-5 of rounding, scaled by the row's target mass.
    const f32 = run(g, x, t, "f32").loss.data[0];
    expect(Number.isFinite(f32)).toBe(true);
    expect(Math.abs(f32 - want)).toBeLessThanOrEqual(2e-4 + 1e-6 * want);
  });

  it("is log K for equal logits and 0 for a confident correct answer, never NaN at +-1000", () => {
    const g = lossGraph(2, 4);
    const t = { shape: [2, 4], data: Float32Array.of(1, 0, 0, 0, 0, 0, 1, 0) };
    const flat = runGraph(g, { logits: { shape: [2, 4], data: new Float32Array(8).fill(-1000) }, target: t }).outputs.loss.data[0];
    expect(flat).toBeCloseTo(Math.log(4), 6);
    const sure = runGraph(g, { logits: { shape: [2, 4], data: Float32Array.of(1000, -1000, -1000, -1000, -1000, -1000, 1000, -1000) }, target: t }).outputs.loss.data[0];
    expect(Math.abs(sure)).toBe(0); // -0 from the final negation
    const wrong = runGraph(g, { logits: { shape: [2, 4], data: Float32Array.of(-1000, 1000, 0, 0, 0, 0, 1000, 0) }, target: t }).outputs.loss.data[0];
    expect(wrong).toBeCloseTo(1000, 3); // row 0 is off by 2000, row 1 right: mean 1000
  });

  it.each([[4], [5]])("its gradient is (softmax - target) / N (and -log softmax / N for the target), seed %i", (seed) => {
    const rng = new Rng(seed);
    const x = randomLogits(rng, 80);
    const t = softTargets(rng);
    const { softmax } = direct(x, t);
    const out = run(withGrad(lossGraph()), x, t, "f64");
    const want = softmax.map((p, i) => (p - t[i]) / N);
    expect(maxAbsDiff(out["grad.logits"].data, want)).toBeLessThan(1e-12);
    // d loss / d target = (logsumexp - x) / N = -log softmax / N (finite even where softmax underflows)
    const logSoftmaxGrad = Float64Array.from({ length: N * K }, (_, i) => {
      const r = Math.floor(i / K) * K;
      const row = Array.from(x.subarray(r, r + K));
      const m = Math.max(...row);
      return (m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - x[i]) / N;
    });
    expect(maxAbsDiff(out["grad.target"].data, logSoftmaxGrad)).toBeLessThan(1e-9);
  });

  it("its gradient is (softmax - target) / N where the maximum is tied (the shift's gradient cancels)", () => {
    const x = Float64Array.from({ length: N * K }, (_, i) => [3, 3, 1, 3, -2, 0, 3][i % K] + (i >= 4 * K ? 50 : 0));
    x.fill(-7, 0, K); // a row of equal logits
    const t = softTargets(new Rng(9));
    const { softmax } = direct(x, t);
    for (const precision of ["f64", "f32"] as const) {
      const grad = run(withGrad(lossGraph()), x, t, precision)["grad.logits"].data;
      expect(grad.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(grad, softmax.map((p, i) => (p - t[i]) / N)), precision).toBeLessThan(precision === "f64" ? 1e-12 : 1e-7);
    }
  });

  it("its gradient matches central differences, element by element (float64)", () => {
    const rng = new Rng(6);
    const x = Float64Array.from({ length: N * K }, () => 4 * (2 * rng.uniform() - 1));
    const t = softTargets(rng);
    const grad = run(withGrad(lossGraph()), x, t, "f64")["grad.logits"].data;
    const g = lossGraph();
    const eps = 1e-5;
    for (let i = 0; i < N * K; i++) {
      const plus = Float64Array.from(x);
      const minus = Float64Array.from(x);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (run(g, plus, t, "f64").loss.data[0] - run(g, minus, t, "f64").loss.data[0]) / (2 * eps);
      expect(Math.abs(numeric - grad[i]), `d loss / d logits[${i}]`).toBeLessThan(1e-9);
    }
  });

  it.each([[0], [1], [2]])("passes check_vjp in a random direction (seed %i)", (seed) => {
    const r = checkVjp((b, [logits, target]) => crossEntropyLoss(b, logits, target), [{ shape: [3, 5] }, { shape: [3, 5] }], { seed, eps: 1e-6, rtol: 1e-6 });
    expect(r.ok, `analytic ${r.analytic} vs numeric ${r.numeric}`).toBe(true);
  });
});

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`crossEntropyLoss on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it.each([
    [7, 3],
    [8, 80],
  ])("loss and gradients match the reference interpreter (seed %i, logits in +-%i and a row near 1000)", async (seed, scale) => {
    if (typeof gpu === "string") return;
    const rng = new Rng(seed);
    const x = randomLogits(rng, scale);
    const t = softTargets(rng);
    const graph = withGrad(lossGraph());
    const ref = run(graph, x, t, "f32");
    const exec = await GraphExecutor.create(gpu, compileGraph(graph, deviceTarget(gpu)));
    try {
      for (const [name, v] of Object.entries(feeds(x, t, false))) exec.write(name, v);
      exec.run();
      const loss = (await exec.read("loss")).data[0];
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - ref.loss.data[0])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref.loss.data[0])));
      expect(Math.abs(loss - direct(x, t).loss)).toBeLessThanOrEqual(2e-4 + 1e-6 * direct(x, t).loss);
      for (const name of ["grad.logits", "grad.target"]) {
        const got = (await exec.read(name)).data;
        const want = ref[name].data;
        const scaleOf = Math.max(...Array.from(want, Math.abs));
        expect(maxAbsDiff(got, want), name).toBeLessThanOrEqual(1e-6 + 1e-5 * scaleOf);
      }
    } finally {
      exec.destroy();
    }
  });
});

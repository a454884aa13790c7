// The fused BatchNorm kernels (compiler/ops/batchnorm.ts) against the reference interpreter, in
// both layouts (8 lanes per channel on a software adapter, 256 threads on a GPU), plain and with
// the fused SiLU (act "silu": y recomputed in the backward ops): BatchNorm2d
// and BatchNorm1d shapes, spatial runs shorter and longer than a block and no multiple of it,
// one sample (variance 0), more channels than a workgroup row, inputs far from zero (the
// shifted sums), and a tensor past FLAT_BAKE_MIN (sizes baked into the per-element kernels).
import { describe, it } from "vitest";
import type { InputSpec } from "./gpu-harness.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { asHardware, withWorkgroupLimit } from "./small-limits.js";
import { Rng } from "../../runtime/session/rng.js";

const gpu = await getGpu();

const cases: number[][] = [
  [2, 3, 5, 7], [32, 16, 32, 32], [4, 8], [3, 5, 40, 40], [1, 2, 1, 1], [9, 70, 3, 3], [2, 4, 1, 33], [16, 4, 128, 128],
];

/** Per channel a mean in [-1, 1] and a variance in [0.1, 2]: statistics as batchnorm_stats makes them. */
function statsFor(c: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 2 * c }, (_, i) => (i < c ? 2 * rng.uniform() - 1 : 0.1 + 1.9 * rng.uniform()));
}

type Op = "batchnorm_stats" | "batchnorm_apply" | "batchnorm_grad_stats" | "batchnorm_input_grad";

function inputsFor(op: Op, shape: number[]): InputSpec[] {
  const c = shape[1];
  // far from zero, so a plain sum of squares would cancel
  const x: InputSpec = { shape, range: op === "batchnorm_stats" ? [3, 5] : [-2, 2] };
  const dy: InputSpec = { shape };
  const stats: InputSpec = { shape: [2, c], data: statsFor(c, 11) };
  const perChannel: InputSpec = { shape: [c], range: [-2, 2] };
  if (op === "batchnorm_stats") return [x];
  if (op === "batchnorm_apply") return [x, stats, perChannel, perChannel];
  if (op === "batchnorm_grad_stats") return [x, dy, stats];
  return [x, dy, stats, perChannel, { shape: [2, c], range: [-50, 50] }];
}

const params = (op: Op) => (op === "batchnorm_stats" ? {} : { eps: 1e-5 });

/** The act "silu" forms: apply computes silu(y); the backward ops take dh, the weight and the bias. */
function siluInputsFor(op: Exclude<Op, "batchnorm_stats">, shape: number[]): InputSpec[] {
  const perChannel: InputSpec = { shape: [shape[1]], range: [-2, 2] };
  const base = inputsFor(op, shape);
  if (op === "batchnorm_apply") return base;
  if (op === "batchnorm_grad_stats") return [...base, perChannel, perChannel];
  return [...base, perChannel];
}

describe.skipIf(typeof gpu === "string")(`batchnorm kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const layout of ["device", "hardware"] as const) {
    for (const op of ["batchnorm_stats", "batchnorm_apply", "batchnorm_grad_stats", "batchnorm_input_grad"] as const) {
      it.each(cases.map((c) => [c]))(`${op} %j (${layout} layout)`, async (shape) => {
        if (typeof gpu === "string") return;
        const ctx = layout === "hardware" ? asHardware(gpu) : gpu;
        await expectKernelMatchesReference(ctx, op, inputsFor(op, shape), params(op) as never, { rtol: 2e-5, atol: 2e-5 });
      });
    }
  }

  for (const layout of ["device", "hardware"] as const) {
    for (const op of ["batchnorm_apply", "batchnorm_grad_stats", "batchnorm_input_grad"] as const) {
      it.each(cases.map((c) => [c]))(`${op} with act silu %j (${layout} layout)`, async (shape) => {
        if (typeof gpu === "string") return;
        const ctx = layout === "hardware" ? asHardware(gpu) : gpu;
        await expectKernelMatchesReference(ctx, op, siluInputsFor(op, shape), { eps: 1e-5, act: "silu" }, { rtol: 2e-5, atol: 2e-5 });
      });
    }
  }

  it("folds the dispatch into 2-D past the workgroup limit", async () => {
    if (typeof gpu === "string") return;
    for (const op of ["batchnorm_stats", "batchnorm_apply", "batchnorm_grad_stats", "batchnorm_input_grad"] as const) {
      await expectKernelMatchesReference(withWorkgroupLimit(gpu, 3), op, inputsFor(op, [3, 10, 4, 4]), params(op) as never, { rtol: 2e-5, atol: 2e-5 });
      await expectKernelMatchesReference(withWorkgroupLimit(asHardware(gpu), 2), op, inputsFor(op, [3, 10, 4, 4]), params(op) as never, { rtol: 2e-5, atol: 2e-5 });
    }
  });
});

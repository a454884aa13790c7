// The fused LayerNorm kernels (compiler/ops/layernorm.ts) against the reference interpreter, in
// both layouts (a software adapter's 8-lane column sums, a GPU's 256-thread ones): rows of the
// lesson's attention widths (32, 64) and of odd widths (1, 3, 70), one row, many rows, rows far
// from zero (the statistics' cancellation), and a tensor past FLAT_BAKE_MIN (apply's sizes baked).
import { describe, it } from "vitest";
import type { InputSpec } from "./gpu-harness.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { asHardware } from "./small-limits.js";
import { Rng } from "../../runtime/session/rng.js";

const gpu = await getGpu();

const cases: number[][] = [[2, 3, 6], [4, 256, 32], [1, 64], [7, 3], [5, 1], [2, 9, 70], [1, 1, 5], [64, 256, 64]];

/** Per row a mean in [-1, 1] and an rstd in [0.5, 3]: statistics as layernorm_stats makes them. */
function statsFor(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 2 * rows }, (_, i) => (i % 2 === 0 ? 2 * rng.uniform() - 1 : 0.5 + 2.5 * rng.uniform()));
}

type Op = "layernorm_stats" | "layernorm_apply" | "layernorm_input_grad" | "layernorm_param_grad";

function inputsFor(op: Op, shape: number[]): InputSpec[] {
  const d = shape[shape.length - 1];
  const rows = shape.reduce((a, b) => a * b, 1) / d;
  const x: InputSpec = { shape, range: op === "layernorm_stats" ? [3, 5] : [-2, 2] };
  const dy: InputSpec = { shape };
  const stats: InputSpec = { shape: [rows, 2], data: statsFor(rows, 7) };
  const perColumn: InputSpec = { shape: [d], range: [-2, 2] };
  if (op === "layernorm_stats") return [x];
  if (op === "layernorm_apply") return [x, stats, perColumn, perColumn];
  if (op === "layernorm_input_grad") return [x, dy, stats, perColumn];
  return [x, dy, stats];
}

describe.skipIf(typeof gpu === "string")(`layernorm kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const layout of ["device", "hardware"] as const) {
    for (const op of ["layernorm_stats", "layernorm_apply", "layernorm_input_grad", "layernorm_param_grad"] as const) {
      it.each(cases.map((c) => [c]))(`${op} %j (${layout} layout)`, async (shape) => {
        if (typeof gpu === "string") return;
        const ctx = layout === "hardware" ? asHardware(gpu) : gpu;
        await expectKernelMatchesReference(ctx, op, inputsFor(op, shape), (op === "layernorm_stats" ? { eps: 1e-5 } : {}) as never, { rtol: 2e-5, atol: 2e-5 });
      });
    }
  }
});

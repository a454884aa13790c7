// The run plans behind the reference kernels' broadcasting, reductions and copies walk exactly
// the offsets of the plain per-element odometer, in the same order.

import { describe, expect, test } from "vitest";
import { runPlan, stridedOffsets } from "../../compiler/ops/strided.js";
import { broadcastStrides, stridesOf } from "../../compiler/ir/shape.js";
import { Rng } from "../../runtime/session/rng.js";

/** Every operand's offsets as the plan walks them, flattened run by run. */
function walk(shape: number[], strides: number[][]): number[][] {
  const { len, count, inner, starts } = runPlan(shape, strides);
  return strides.map((_, k) => {
    const out: number[] = [];
    for (let r = 0; r < count; r++) for (let j = 0; j < len; j++) out.push(starts[k][r] + j * inner[k]);
    return out;
  });
}

describe("runPlan", () => {
  test("matches stridedOffsets on random shapes, broadcasts, reductions and permutations", () => {
    const rng = new Rng(7);
    const int = (n: number) => Math.floor(rng.uniform() * n);
    for (let trial = 0; trial < 300; trial++) {
      const shape = Array.from({ length: 1 + int(5) }, () => 1 + int(4));
      const own = stridesOf(shape);
      const bcast = broadcastStrides(shape.map((d) => (rng.uniform() < 0.4 ? 1 : d)), shape);
      const reduced = own.map((s, i) => (rng.uniform() < 0.5 ? 0 : s));
      const perm = [...own].sort(() => rng.uniform() - 0.5);
      const operands = [own, bcast, reduced, perm];
      const got = walk(shape, operands);
      operands.forEach((s, k) => expect(got[k]).toEqual(Array.from(stridedOffsets(shape, s))));
    }
  });

  test("merges what every operand walks contiguously into one run", () => {
    // [N, C, H, W] + [1, C, 1, 1]: runs of H*W with the channel's value, N*C of them
    const plan = runPlan([2, 3, 4, 5], [stridesOf([2, 3, 4, 5]), broadcastStrides([1, 3, 1, 1], [2, 3, 4, 5])]);
    expect([plan.len, plan.count, ...plan.inner]).toEqual([20, 6, 1, 0]);
    expect(runPlan([2, 1, 3], [[3, 3, 1]]).len).toBe(6);
    expect(runPlan([1, 1], [[0, 0]])).toMatchObject({ len: 1, count: 1 });
    expect(runPlan([2, 0, 3], [[0, 3, 1]]).count * runPlan([2, 0, 3], [[0, 3, 1]]).len).toBe(0);
  });
});

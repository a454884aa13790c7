import { describe, expect, it } from "vitest";
import { REDUCE_KINDS, type ReduceKind } from "../../compiler/ir/kinds.js";
import { registry } from "../../compiler/ops/index.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();

/** Every subset of a rank's axes, in canonical (ascending) order. */
const subsets = (rank: number) =>
  Array.from({ length: 1 << rank }, (_, m) => [...Array(rank).keys()].filter((k) => m & (1 << k)));

// [3, 5, 7] over each subset: counts 1..105, so both the per-output loop (< 64) and the
// workgroup tree (>= 64) appear; [2, 64, 33, 17] over [0, 2, 3] is BatchNorm's statistics.
const cases: Array<[number[], number[]]> = [
  ...subsets(3).map((axes): [number[], number[]] => [[3, 5, 7], axes]),
  [[2, 64, 33, 17], [0, 2, 3]],
  [[2, 64, 33, 17], [0, 1, 2, 3]],
  [[1000, 3], [0]], // a long strided column
  [[4, 1, 6], [1]], // size-1 axes, reduced and kept
  [[4, 1, 6], [0, 1]],
  [[1, 1], [0, 1]],
  [[], []],
  [[5, 300], [1]],
];

describe.skipIf(typeof gpu === "string")(`reduce kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const op of REDUCE_KINDS) {
    for (const keepdims of [false, true]) {
      it.each(cases)(`${op} %j over %j, keepdims ${keepdims}`, async (shape, axes) => {
        if (typeof gpu === "string") return;
        await expectKernelMatchesReference(gpu, op, [{ shape }], { axes, keepdims });
      });
    }
  }

  it.each(REDUCE_KINDS)("%s at BatchNorm's size: [512, 2, 32, 32] over [0, 2, 3]", async (op) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, op, [{ shape: [512, 2, 32, 32] }], { axes: [0, 2, 3], keepdims: true });
  });

  it("reduce_max of all-negative rows starts from a real element", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "reduce_max", [{ shape: [6, 5], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
    await expectKernelMatchesReference(gpu, "reduce_max", [{ shape: [3, 100], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
  });

  it("folds one workgroup per output into 2-D past the limit", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 5), "reduce_sum", [{ shape: [2, 37, 70] }], { axes: [0, 2], keepdims: true });
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 5), "reduce_mean", [{ shape: [700, 3] }], { axes: [1], keepdims: false });
  });
});

describe("reduce WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  const source = (op: ReduceKind, shape: number[], axes: number[]) => {
    const outShape = shape.filter((_, k) => !axes.includes(k));
    return registry[op].wgsl!({ inputs: [{ shape, dtype: "f32" }], out: { shape: outShape, dtype: "f32" }, params: { axes, keepdims: false }, limits });
  };

  it("reads [N, C, H, W] over [0, 2, 3] as [N | C | H*W] with a workgroup per channel", () => {
    const k = source("reduce_mean", [2, 64, 33, 17], [0, 2, 3]);
    expect(k.workgroups).toEqual([64, 1, 1]);
    expect(k.code).toContain("var<workgroup> partial: array<f32, 256>;");
    expect(k.code).toContain("for (var r = lid; r < 1122u; r += 256u) {");
    expect(k.code).toContain("off += (q % 561u) * 1u; q = q / 561u;");
    expect(k.code).toContain("off += q * 35904u;");
    expect(k.code).toContain("out[i] = partial[0] / 1122.0;");
  });

  it("loops per output element over short reductions", () => {
    const k = source("reduce_max", [3, 5, 7], [0, 2]);
    expect(k.code).not.toContain("var<workgroup>");
    expect(k.code).toContain("for (var r1 = 0u; r1 < 7u * nwg.z; r1++) {");
    expect(k.code).toContain("acc = max(acc, in0[base + r0 * 35u + r1 * 1u]);");
  });
});

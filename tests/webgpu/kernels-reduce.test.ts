import { describe, expect, it } from "vitest";
import { REDUCE_KINDS, type ReduceKind } from "../../compiler/ir/kinds.js";
import { registry } from "../../compiler/ops/index.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { asHardware, withWorkgroupLimit } from "./small-limits.js";
import { readDims } from "../../compiler/wgsl/dims.js";

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
  // the layouts a software adapter picks (reducePlan): loops at >= 8 outputs, 8-lane
  // workgroups below; the step's patterns: the softmax VJP's row sums, GroupNorm's rows,
  // attention's bias gradients over [0, 1], upsample's VJP over [3, 5], bias gradients and
  // split-K parts over [0], and output counts that are no multiple of 64
  [[2, 4, 64, 256], [3]],
  [[3, 64, 64], [2]],
  [[3, 64, 64], [0, 1]],
  [[2, 16, 8, 2, 8, 2], [3, 5]],
  [[513, 70], [0]],
  [[6, 16, 32, 3, 3], [0]],
  [[7, 130], [1]],
  [[2, 3, 40, 4], [0, 2]],
  [[8, 3, 64], [0, 2]],
  [[3, 8, 20], [0, 2]], // an innermost run shorter than a block
  [[9, 2, 1000], [0, 2]], // blocks with a shorter last one
];

describe.skipIf(typeof gpu === "string")(`reduce kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const op of REDUCE_KINDS) {
    for (const keepdims of [false, true]) {
      it.each(cases)(`${op} %j over %j, keepdims ${keepdims}`, async (shape, axes) => {
        if (typeof gpu === "string") return;
        await expectKernelMatchesReference(gpu, op, [{ shape }], { axes, keepdims });
      });
    }
    // the GPU layout (a workgroup tree per output) on this adapter too
    it.each(cases)(`${op} %j over %j, hardware layout`, async (shape, axes) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(asHardware(gpu), op, [{ shape }], { axes, keepdims: false });
    });
  }

  it.each(REDUCE_KINDS)("%s at BatchNorm's size: [512, 2, 32, 32] over [0, 2, 3]", async (op) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, op, [{ shape: [512, 2, 32, 32] }], { axes: [0, 2, 3], keepdims: true });
    await expectKernelMatchesReference(gpu, op, [{ shape: [64, 16, 16, 16] }], { axes: [0, 2, 3], keepdims: true });
    await expectKernelMatchesReference(asHardware(gpu), op, [{ shape: [512, 2, 32, 32] }], { axes: [0, 2, 3], keepdims: true });
  });

  it("reduce_max of all-negative rows starts from a real element", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "reduce_max", [{ shape: [6, 5], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
    await expectKernelMatchesReference(gpu, "reduce_max", [{ shape: [3, 100], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
    await expectKernelMatchesReference(gpu, "reduce_max", [{ shape: [20, 100], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
    await expectKernelMatchesReference(asHardware(gpu), "reduce_max", [{ shape: [3, 100], range: [-1e30, -1e29] }], { axes: [1], keepdims: false });
  });

  it("folds one workgroup per output into 2-D past the limit", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 5), "reduce_sum", [{ shape: [2, 37, 70] }], { axes: [0, 2], keepdims: true });
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 5), "reduce_mean", [{ shape: [700, 3] }], { axes: [1], keepdims: false });
    await expectKernelMatchesReference(withWorkgroupLimit(asHardware(gpu), 5), "reduce_sum", [{ shape: [2, 37, 70] }], { axes: [0, 2], keepdims: true });
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 2), "reduce_sum", [{ shape: [300, 70] }], { axes: [1], keepdims: false });
  });
});

describe("reduce WGSL", () => {
  const source = (op: ReduceKind, shape: number[], axes: number[], hardware = true) => {
    const outShape = shape.filter((_, k) => !axes.includes(k));
    const limits = { maxWorkgroupsPerDimension: 65535, hardware };
    return registry[op].wgsl!({ inputs: [{ shape, dtype: "f32" }], out: { shape: outShape, dtype: "f32" }, params: { axes, keepdims: false }, limits });
  };

  it("reads [N, C, H, W] over [0, 2, 3] as [N | C | H*W] with a workgroup per channel on a GPU", () => {
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
    expect(k.code).toContain("for (var r1 = 0u; r1 < dims.n1; r1++) {");
    expect(k.code).toContain("acc = max(acc, in0[base + r0 * dims.s0 + r1 * dims.s1]);");
    expect(readDims(k.code, k.uniforms)).toMatchObject({ n0: 3, s0: 35, n1: 7, s1: 1 });
  });

  it("loops per output element over long reductions on a software adapter", () => {
    const k = source("reduce_mean", [2, 64, 33, 17], [0, 2, 3], false);
    expect(k.workgroups).toEqual([1, 1, 1]);
    expect(k.code).not.toContain("var<workgroup>");
    expect(k.code).toContain("for (var r0 = 0u; r0 < dims.n0; r0++) {");
    // the innermost run (H*W) in blocks of 32, each block summed on its own first
    expect(k.code).toContain("for (var b = 0u; b < dims.n1; b += 32u) {");
    expect(k.code).toContain("let end = min(b + 32u, dims.n1);");
    expect(k.code).toContain("for (var k = b; k < end; k++) { part = part + in0[off + k * dims.s1]; }");
    expect(k.code).toContain("out[i] = acc / dims.count;");
    expect(readDims(k.code, k.uniforms)).toMatchObject({ n0: 2, n1: 561, s1: 1, count: 1122 });
    expect(source("reduce_sum", [8, 4, 256, 256], [3], false).workgroups).toEqual([128, 1, 1]);
  });

  it("splits a long reduction to fewer than 8 outputs over 8 lanes with one barrier on a software adapter", () => {
    const k = source("reduce_sum", [5, 300], [1], false);
    expect(k.workgroups).toEqual([5, 1, 1]);
    expect(k.code).toContain("@workgroup_size(8)");
    expect(k.code.match(/workgroupBarrier/g)).toHaveLength(1);
    expect(k.code).toContain("for (var k = 1u; k < 8u * nwg.z; k++) { t = t + partial[k]; }");
  });
});

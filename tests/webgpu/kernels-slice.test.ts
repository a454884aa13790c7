import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import type { DType } from "../../compiler/ir/types.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { readDims } from "../../compiler/wgsl/dims.js";

const gpu = await getGpu();
const shape = [3, 5, 7];

// each axis alone, every axis at once, the whole tensor, single elements, rank 1
const slices: Array<[number[], number[], number[]]> = [
  [shape, [1, 0, 0], [3, 5, 7]],
  [shape, [0, 2, 0], [3, 4, 7]],
  [shape, [0, 0, 3], [3, 5, 6]],
  [shape, [1, 1, 2], [2, 4, 7]],
  [shape, [0, 0, 0], [3, 5, 7]],
  [shape, [2, 4, 6], [3, 5, 7]],
  [[100], [37], [99]],
  [[2, 64, 33, 17], [0, 0, 1, 1], [2, 64, 32, 16]],
];

const pads: Array<[number[], number[], number[]]> = [
  [shape, [1, 0, 0], [2, 0, 0]],
  [shape, [0, 3, 0], [0, 1, 0]],
  [shape, [0, 0, 1], [0, 0, 4]],
  [shape, [1, 2, 3], [3, 2, 1]],
  [shape, [0, 0, 0], [0, 0, 0]],
  [[1, 1], [2, 0], [0, 3]], // size-1 axes padded out
  [[], [], []],
  [[2, 64, 32, 32], [0, 0, 1, 1], [0, 0, 1, 1]], // a conv's zero border
];

describe.skipIf(typeof gpu === "string")(`slice and pad kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  // i32 shares the index arithmetic with f32: a few cases check the element type (each distinct
  // kernel costs LLVM JIT time on lavapipe)
  for (const dtype of ["f32", "i32"] as DType[]) {
    const some = <T>(all: T[]) => (dtype === "f32" ? all : all.slice(0, 2));
    it.each(some(slices))(`slice ${dtype} %j from %j to %j`, async (x, starts, ends) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, "slice", [{ shape: x, dtype, range: [0, 1000] }], { starts, ends }, { atol: 0, rtol: 0 });
    });

    it.each(some(pads))(`pad ${dtype} %j before %j after %j`, async (x, before, after) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, "pad", [{ shape: x, dtype, range: [0, 1000] }], { before, after }, { atol: 0, rtol: 0 });
    });
  }
});

describe("slice and pad WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  it("slice starts at the corner's offset", () => {
    const k = registry.slice.wgsl!({ inputs: [{ shape, dtype: "f32" }], out: { shape: [2, 4, 7], dtype: "f32" }, params: { starts: [1, 1, 0], ends: [3, 5, 7] }, limits });
    expect(k.code).toContain("out[i] = in0[dims.base + ia];");
    expect(readDims(k.code, k.uniforms).base).toBe(42);
  });

  it("pad tests only padded axes and writes the dtype's zero", () => {
    const k = registry.pad.wgsl!({ inputs: [{ shape, dtype: "i32" }], out: { shape: [3, 9, 7], dtype: "i32" }, params: { before: [0, 3, 0], after: [0, 1, 0] }, limits });
    expect(k.code).toContain("let c = (rem - q * dims.d1); rem = q; inside = inside && c >= dims.lo1 && c < dims.hi1; ia += ((c - dims.lo1) * dims.s1); }");
    expect(k.code).toContain("let c = (rem - q * dims.d2); rem = q; ia += ((c - dims.lo2) << dims.s2_log2); }");
    expect(k.code).toContain("var v = 0i;");
    expect(readDims(k.code, k.uniforms)).toMatchObject({ d1: 9, lo1: 3, hi1: 8, s1: 7, d2: 7, lo2: 0, s2_log2: 0 });
  });
});

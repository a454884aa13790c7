import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import type { DType } from "../../compiler/ir/types.js";
import { expectKernelMatchesReference, getGpu, type InputSpec } from "./gpu-harness.js";
import { readDims } from "../../compiler/wgsl/dims.js";

const gpu = await getGpu();

/** `sizes.length` inputs shaped like `shape` except `sizes[k]` along `axis`. */
const pieces = (shape: number[], axis: number, sizes: number[], dtype: DType = "f32"): InputSpec[] =>
  sizes.map((d) => ({ shape: shape.map((s, j) => (j === axis ? d : s)), dtype, range: [0, 1000] }));

const cases: Array<[number[], number, number[]]> = [
  [[3, 5, 7], 0, [2, 1, 4]],
  [[3, 5, 7], 1, [2, 1, 4]],
  [[3, 5, 7], 2, [2, 1, 4]],
  [[2, 64, 9, 9], 1, [32, 32]], // a UNet skip join
  [[10], 0, [3, 1, 1, 5, 2, 7, 4, 1]], // eight inputs
  [[4, 6], 1, [6]], // one input: a copy
  [[1, 1], 0, [1, 1, 1]],
];

describe.skipIf(typeof gpu === "string")(`concat kernel ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  // i32 shares the index arithmetic with f32: a few cases check the element type (each distinct
  // kernel costs LLVM JIT time on lavapipe)
  for (const dtype of ["f32", "i32"] as DType[]) {
    const some = <T>(all: T[]) => (dtype === "f32" ? all : all.slice(0, 2));
    it.each(some(cases))(`concat ${dtype} %j along %i of %j`, async (shape, axis, sizes) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, "concat", pieces(shape, axis, sizes, dtype), { axis }, { atol: 0, rtol: 0 });
    });
  }
});

describe("concat WGSL", () => {
  it("reads every input binding, one branch per input", () => {
    const inputs = [2, 1, 4].map((d) => ({ shape: [3, d, 7], dtype: "f32" as const }));
    const k = registry.concat.wgsl!({ inputs, out: { shape: [3, 7, 7], dtype: "f32" }, params: { axis: 1 }, limits: { maxWorkgroupsPerDimension: 65535 } });
    expect(k.code).toContain("if (c < dims.end0) { out[i] = in0[((o * dims.d0 + c - dims.start0) * dims.inner) + j]; }");
    expect(k.code).toContain("else if (c < dims.end1) { out[i] = in1[((o * dims.d1 + c - dims.start1) * dims.inner) + j]; }");
    expect(k.code).toContain("else { out[i] = in2[((o * dims.d2 + c - dims.start2) * dims.inner) + j]; }");
    expect(readDims(k.code, k.uniforms)).toMatchObject({ inner: 7, total: 7, d0: 2, start0: 0, end0: 2, d1: 1, start1: 2, end1: 3, d2: 4, start2: 3, n: 147 });
  });
});

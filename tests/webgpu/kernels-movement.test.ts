import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import type { DType } from "../../compiler/ir/types.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { readDims } from "../../compiler/wgsl/dims.js";
import { FLAT_BAKE_MIN } from "../../compiler/wgsl/wgsl.js";

const gpu = await getGpu();

/** Every permutation of 0..r-1. */
function perms(r: number): number[][] {
  if (r === 0) return [[]];
  return perms(r - 1).flatMap((p) => Array.from({ length: r }, (_, k) => [...p.slice(0, k), r - 1, ...p.slice(k)]));
}

const transposes: Array<[number[], number[]]> = [
  ...perms(3).map((perm): [number[], number[]] => [[3, 5, 7], perm]),
  [[2, 1, 65], [2, 0, 1]],
  [[4, 1], [1, 0]],
  [[], []],
  [[6, 33, 17, 2], [3, 0, 2, 1]],
];

const broadcasts: Array<[number[], number[]]> = [
  [[], [3, 5, 7]],
  [[5, 1], [3, 5, 7]],
  [[1, 5, 1], [2, 5, 7]],
  [[7], [4, 7]],
  [[3, 5, 7], [3, 5, 7]],
  [[1], [1]],
  [[64, 1, 1], [2, 64, 33, 17]],
];

describe.skipIf(typeof gpu === "string")(`movement kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  // i32 shares the index arithmetic with f32: a few cases check the element type (each distinct
  // kernel costs LLVM JIT time on lavapipe)
  for (const dtype of ["f32", "i32"] as DType[]) {
    const some = <T>(all: T[]) => (dtype === "f32" ? all : all.slice(0, 2));
    it.each(some(transposes))(`transpose ${dtype} %j by %j`, async (shape, perm) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, "transpose", [{ shape, dtype, range: [0, 1000] }], { perm }, { atol: 0, rtol: 0 });
    });

    it.each(some(broadcasts))(`broadcast_to ${dtype} %j to %j`, async (shape, to) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, "broadcast_to", [{ shape, dtype, range: [0, 1000] }], { shape: to }, { atol: 0, rtol: 0 });
    });
  }
});

describe.skipIf(typeof gpu === "string")("kernels past FLAT_BAKE_MIN elements (sizes baked in)", () => {
  it("transpose, broadcast_to and a broadcast multiply of 1.2M elements match the reference", async () => {
    if (typeof gpu === "string") return;
    const big = [8, 4, 192, 192];
    expect(big.reduce((a, b) => a * b)).toBeGreaterThanOrEqual(FLAT_BAKE_MIN);
    await expectKernelMatchesReference(gpu, "transpose", [{ shape: big, dtype: "i32", range: [0, 1000] }], { perm: [0, 1, 3, 2] }, { atol: 0, rtol: 0 });
    await expectKernelMatchesReference(gpu, "broadcast_to", [{ shape: [8, 4, 1, 192] }], { shape: big }, { atol: 0, rtol: 0 });
    await expectKernelMatchesReference(gpu, "mul", [{ shape: big }, { shape: [8, 1, 1, 192] }], {});
  });
});

describe("movement WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  it("bakes the sizes of large kernels in as constants", () => {
    const k = registry.transpose.wgsl!({ inputs: [{ shape: [8, 4, 192, 192], dtype: "f32" }], out: { shape: [8, 4, 192, 192], dtype: "f32" }, params: { perm: [0, 1, 3, 2] }, limits });
    expect(k.code).not.toContain("dims");
    expect(k.uniforms).toBeUndefined();
    expect(k.code).toContain("let q = (rem / 192u); let c = (rem % 192u);");
  });

  it("broadcast_to reads repeated axes with stride 0 (no offset term)", () => {
    const k = registry.broadcast_to.wgsl!({ inputs: [{ shape: [5, 1], dtype: "f32" }], out: { shape: [3, 5, 7], dtype: "f32" }, params: { shape: [3, 5, 7] }, limits });
    expect(k.code).toContain("{ let q = udiv(rem, dims.d1, dims.d1_rcp); let c = (rem - q * dims.d1); rem = q; ia += (c << dims.ia_1_log2); }");
    expect(k.code).not.toContain("ia_0"); // the repeated axis adds nothing
    expect(k.code).toContain("out[i] = in0[dims.base + ia];");
    expect(readDims(k.code, k.uniforms)).toMatchObject({ d1: 5, ia_1_log2: 0, base: 0 });
  });
});

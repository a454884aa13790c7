import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import type { DType } from "../../compiler/ir/types.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";

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

describe("movement WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  it("broadcast_to reads repeated axes with stride 0 (no offset term)", () => {
    const k = registry.broadcast_to.wgsl!({ inputs: [{ shape: [5, 1], dtype: "f32" }], out: { shape: [3, 5, 7], dtype: "f32" }, params: { shape: [3, 5, 7] }, limits });
    expect(k.code).toContain("{ let c = rem % 5u; rem = rem / 5u; ia += c * 1u; }");
    expect(k.code).not.toContain("rem % 3u");
    expect(k.code).toContain("out[i] = in0[0u + ia];");
  });
});

import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();

// Rows under 64 loop in one invocation ([4, 17], [1], [5, 1], [600, 3], [2, 63]); longer rows
// take a workgroup of 64..256 threads: as long as the row, one short of a power of two, longer.
const shapes = [[4, 17], [1], [5, 1], [600, 3], [2, 63], [3, 64], [2, 3, 257], [2, 256], [3, 1000]];

describe.skipIf(typeof gpu === "string")(`softmax kernel ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it.each(shapes.map((s) => [s]))("softmax %j", async (shape) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "softmax", [{ shape, range: [-5, 5] }], {});
  });

  it("is stable for large logits (exp would overflow without the max shift)", async () => {
    if (typeof gpu === "string") return;
    for (const shape of [[4, 50], [4, 300]]) {
      await expectKernelMatchesReference(gpu, "softmax", [{ shape, range: [500, 1000] }], {});
      await expectKernelMatchesReference(gpu, "softmax", [{ shape, range: [-1000, -500] }], {});
    }
  });

  it("folds one workgroup per row into 2-D past the limit", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 4), "softmax", [{ shape: [3, 7, 65] }], {});
  });
});

describe("softmax WGSL", () => {
  const source = (shape: number[]) => {
    const t = { shape, dtype: "f32" } as const;
    return registry.softmax.wgsl!({ inputs: [t], out: t, params: {}, limits: { maxWorkgroupsPerDimension: 65535 } });
  };

  it("has one workgroup per long row and a power-of-two tree no wider than the row", () => {
    const k = source([2, 3, 257]);
    expect(k.workgroups).toEqual([6, 1, 1]);
    expect(k.code).toContain("@workgroup_size(256)");
    expect(k.code).toContain("let e = exp(in0[row + j] - rowMax);");
  });

  it("loops over short rows in one invocation, without barriers", () => {
    const k = source([600, 17]);
    expect(k.workgroups).toEqual([10, 1, 1]);
    expect(k.code).not.toContain("workgroupBarrier");
    expect(k.code).toContain("let s = 17u * nwg.z;");
    expect(k.code).toContain("for (var j = 1u; j < s; j++) { rowMax = max(rowMax, in0[row + j]); }");
  });
});

import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import { expectKernelMatchesReference, getGpu, randomData } from "./gpu-harness.js";
import { asHardware, withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();

// Rows under 64 loop in one invocation ([4, 17], [1], [5, 1], [600, 3], [2, 63]). Longer rows
// loop too on a software adapter, and on a GPU take a workgroup of 64..256 threads: as long as
// the row, one short of a power of two, longer. The attention shapes ([B * heads, S, S], S 64
// and 256), row counts that are no multiple of 64 (130) and fewer rows than lanes ([1, 2000]).
const shapes = [[4, 17], [1], [5, 1], [600, 3], [2, 63], [3, 64], [2, 3, 257], [2, 256], [3, 1000], [2, 8, 64, 64], [4, 256, 256], [130, 100], [1, 2000]];

/** Rows of increasing values: the online max grows at every element, so the sum is rescaled every step. */
function ascending(rows: number, s: number, step: number): Float32Array {
  return Float32Array.from({ length: rows * s }, (_, k) => (k % s) * step - 3);
}

describe.skipIf(typeof gpu === "string")(`softmax kernel ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const layout of ["device", "hardware"] as const) {
    it.each(shapes.map((s) => [s]))(`softmax %j (${layout} layout)`, async (shape) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(layout === "hardware" ? asHardware(gpu) : gpu, "softmax", [{ shape, range: [-5, 5] }], {});
    });

    it(`is stable for large logits (exp would overflow without the max shift; ${layout} layout)`, async () => {
      if (typeof gpu === "string") return;
      const ctx = layout === "hardware" ? asHardware(gpu) : gpu;
      for (const shape of [[4, 50], [4, 300], [70, 256]]) {
        await expectKernelMatchesReference(ctx, "softmax", [{ shape, range: [500, 1000] }], {});
        await expectKernelMatchesReference(ctx, "softmax", [{ shape, range: [-1000, -500] }], {});
      }
    });

    it(`stays accurate when every element raises the row's max (${layout} layout)`, async () => {
      if (typeof gpu === "string") return;
      const ctx = layout === "hardware" ? asHardware(gpu) : gpu;
      await expectKernelMatchesReference(ctx, "softmax", [{ shape: [3, 1000], data: ascending(3, 1000, 0.01) }], {});
      await expectKernelMatchesReference(ctx, "softmax", [{ shape: [3, 256], data: ascending(3, 256, 4) }], {});
      // descending: the first element is the max, and later ones underflow to 0
      const desc = ascending(2, 300, -0.5);
      await expectKernelMatchesReference(ctx, "softmax", [{ shape: [2, 300], data: desc }], {});
    });
  }

  it("folds the dispatch into 2-D past the limit", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 4), "softmax", [{ shape: [3, 7, 65] }], {});
    await expectKernelMatchesReference(withWorkgroupLimit(asHardware(gpu), 4), "softmax", [{ shape: [3, 7, 65] }], {});
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 2), "softmax", [{ shape: [300, 65], data: randomData(300 * 65, 3, -4, 4) }], {});
  });
});

describe("softmax WGSL", () => {
  const source = (shape: number[], hardware: boolean) => {
    const t = { shape, dtype: "f32" } as const;
    return registry.softmax.wgsl!({ inputs: [t], out: t, params: {}, limits: { maxWorkgroupsPerDimension: 65535, hardware } });
  };

  it("has one workgroup per long row and a power-of-two tree no wider than the row on a GPU", () => {
    const k = source([2, 3, 257], true);
    expect(k.workgroups).toEqual([6, 1, 1]);
    expect(k.code).toContain("@workgroup_size(256)");
    expect(k.code).toContain("let e = exp(in0[row + j] - rowMax);");
  });

  it("loops over every row in one invocation on a software adapter, without barriers", () => {
    const k = source([8, 4, 256, 256], false);
    expect(k.workgroups).toEqual([128, 1, 1]);
    expect(k.code).not.toContain("workgroupBarrier");
    expect(k.code).toContain("let s = 256u * nwg.z;");
    expect(k.code).toContain("total = total * exp(rowMax - m) + exp(v - m);");
  });

  it("loops over short rows in one invocation on any adapter", () => {
    for (const hardware of [false, true]) {
      const k = source([600, 17], hardware);
      expect(k.workgroups).toEqual([10, 1, 1]);
      expect(k.code).not.toContain("workgroupBarrier");
      expect(k.code).toContain("let s = 17u * nwg.z;");
      expect(k.code).toContain("for (var j = 1u; j < s; j++) { rowMax = max(rowMax, in0[row + j]); }");
    }
  });
});

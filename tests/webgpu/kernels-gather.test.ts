import { describe, expect, it } from "vitest";
import { registry } from "../../compiler/ops/index.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph } from "../../compiler/compile.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`gather and scatter_add kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it.each([
    [10, 4, 7],
    [1, 3, 5], // one row: every index is 0
    [1000, 33, 65],
    [5, 1, 1],
  ])("gather table [%i, %i] by %i random indices", async (v, d, n) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "gather", [{ shape: [v, d] }, { shape: [n], dtype: "i32", range: [0, v] }], {});
  });

  it("gather with repeated indices", async () => {
    if (typeof gpu === "string") return;
    const idx = Int32Array.of(2, 0, 2, 2, 4, 0);
    await expectKernelMatchesReference(gpu, "gather", [{ shape: [5, 3] }, { shape: [6], dtype: "i32", data: idx }], {});
  });

  it.each([
    [10, 4, 7],
    [3, 5, 40], // more indices than rows: repeats
    [1, 3, 5],
    [100, 33, 2000],
    [4, 1, 1],
  ])("scatter_add into [%i, %i] from %i random indices", async (rows, d, n) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "scatter_add", [{ shape: [n, d] }, { shape: [n], dtype: "i32", range: [0, rows] }], { rows });
  });

  it("scatter_add with repeated indices and untouched rows", async () => {
    if (typeof gpu === "string") return;
    const idx = Int32Array.of(2, 0, 2, 2, 4, 0);
    await expectKernelMatchesReference(gpu, "scatter_add", [{ shape: [6, 3] }, { shape: [6], dtype: "i32", data: idx }], { rows: 7 });
  });

  it("gather clamps out-of-range indices to the table instead of reading past it", async () => {
    if (typeof gpu === "string") return;
    const b = new GraphBuilder();
    const table = b.input("table", [4, 2]);
    const idx = b.input("idx", [5], "i32");
    b.output("out", b.op("gather", [table, idx], {}));
    const exec = await GraphExecutor.create(gpu, compileGraph(b.build(), deviceTarget(gpu)));
    try {
      exec.write("table", { shape: [4, 2], data: Float32Array.of(0, 1, 10, 11, 20, 21, 30, 31) });
      exec.write("idx", { shape: [5], data: Int32Array.of(-5, 0, 3, 4, 1 << 30) });
      exec.run();
      const got = await exec.read("out");
      expect([...got.data]).toEqual([0, 1, 0, 1, 30, 31, 30, 31, 30, 31]);
    } finally {
      exec.destroy();
    }
  });
});

describe("gather and scatter_add WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  it("gather clamps each index into the table", () => {
    const k = registry.gather.wgsl!({ inputs: [{ shape: [10, 4], dtype: "f32" }, { shape: [7], dtype: "i32" }], out: { shape: [7, 4], dtype: "f32" }, params: {}, limits });
    expect(k.code).toContain("let row = u32(clamp(in1[i / 4u], 0i, 9i));");
  });

  it("scatter_add sums over every index in order, without atomics", () => {
    const k = registry.scatter_add.wgsl!({ inputs: [{ shape: [7, 4], dtype: "f32" }, { shape: [7], dtype: "i32" }], out: { shape: [3, 4], dtype: "f32" }, params: { rows: 3 }, limits });
    expect(k.code).toContain("for (var k = 0u; k < 7u * nwg.z; k++) {");
    expect(k.code).not.toContain("atomic");
    expect(k.workgroups).toEqual([1, 1, 1]);
  });
});

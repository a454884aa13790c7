import { describe, it } from "vitest";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`cast kernel ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it.each([[[3, 5, 7]], [[]], [[1000]]])("f32 -> i32 truncates toward zero %j", async (shape) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "cast", [{ shape, range: [-100, 100] }], { to: "i32" }, { atol: 0, rtol: 0 });
  });

  it.each([[[3, 5, 7]], [[]], [[1000]]])("i32 -> f32 %j", async (shape) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "cast", [{ shape, dtype: "i32", range: [0, 1000] }], { to: "f32" }, { atol: 0, rtol: 0 });
  });

  it("handles signs, halves and values past 2^24", async () => {
    if (typeof gpu === "string") return;
    const floats = Float32Array.of(-2.7, -2.5, -0.5, -0, 0.5, 2.5, 2.7, 16777217, -3e9 / 2);
    await expectKernelMatchesReference(gpu, "cast", [{ shape: [9], data: floats }], { to: "i32" }, { atol: 0, rtol: 0 });
    const ints = Int32Array.of(-7, 0, 7, 16777217, -2147483648, 2147483647);
    // 2^24 + 1 and +-2^31 round to the nearest f32, as the reference's Float32Array does
    await expectKernelMatchesReference(gpu, "cast", [{ shape: [6], dtype: "i32", data: ints }], { to: "f32" }, { atol: 0, rtol: 0 });
  });
});

// A conv large enough that its weight gradient is split (split-K: conv2d_weight_grad_partial +
// reduce_sum) gives the same gradients on WebGPU as on the reference interpreter.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { gradGraph } from "../../compiler/passes/autodiff/index.js";
import { runGraph } from "../../runtime/reference/index.js";
import { compileGraph } from "../../compiler/compile.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { getGpu, randomData } from "./gpu-harness.js";

const gpu = await getGpu();

describe.skipIf(typeof gpu === "string")(`split-K weight gradient ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("gradient of sum(conv2d(x, w)^2) for x [8, 2, 32, 32] matches the reference", { timeout: 300_000 }, async () => {
    if (typeof gpu === "string") return;
    const b = new GraphBuilder();
    const x = b.input("x", [8, 2, 32, 32]);
    const w = b.param("w", [3, 2, 3, 3]);
    b.output("y", b.sum(b.square(b.conv2d(x, w, { stride: 1, padding: 1 }))));
    const g = gradGraph(b.build(), { of: "y", wrt: ["w"] });
    expect(g.nodes.some((n) => n.op === "conv2d_weight_grad_partial"), "the weight gradient is split").toBe(true);
    const feeds = { x: { shape: [8, 2, 32, 32], data: randomData(8 * 2 * 32 * 32, 5) }, w: { shape: [3, 2, 3, 3], data: randomData(54, 6) } };
    const ref = runGraph(g, feeds).outputs["grad.w"];
    const exec = await GraphExecutor.create(gpu, compileGraph(g, deviceTarget(gpu)));
    exec.write("x", feeds.x);
    exec.write("w", feeds.w);
    exec.run();
    const got = await exec.read("grad.w");
    exec.destroy();
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.data.length; i++) {
      diff = Math.max(diff, Math.abs(got.data[i] - ref.data[i]));
      scale = Math.max(scale, Math.abs(ref.data[i]));
    }
    expect(diff / scale).toBeLessThan(1e-4);
  });
});

// Training-mode BatchNorm lowers to the fused ops (ops/batchnorm.ts) at opt 1 and to means,
// subtractions and reductions at opt 0; on a model without attention (so BatchNorm is the only
// difference) both training steps compute the same losses, parameters and running statistics,
// on the reference interpreter and on WebGPU (per-kernel checks: tests/webgpu/kernels-batchnorm).
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { fuseNormActivations } from "../../compiler/passes/lower/fuse-norm-act.js";
import { isSource } from "../../compiler/ir/types.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { twoSteps } from "../support/two-steps.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const checked = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=0", "classes=3"] });
const model = checked.graph!;
const gpu = await getGpu();

const ops = (opt: 0 | 1, mode: "step" | "eval") => buildGraph(model, { batch: 2, mode, opt }).nodes.filter((n) => !isSource(n)).map((n) => n.op);

describe("fused BatchNorm", () => {
  it("opt 1 lowers training BatchNorm to the fused ops, opt 0 to reductions; eval keeps the running statistics", () => {
    const [fused, plain] = [ops(1, "step"), ops(0, "step")];
    for (const k of ["batchnorm_stats", "batchnorm_apply", "batchnorm_grad_stats", "batchnorm_input_grad"]) expect(fused).toContain(k);
    expect(plain.some((k) => k.startsWith("batchnorm_"))).toBe(false);
    expect(plain.filter((k) => k === "reduce_mean").length).toBeGreaterThan(fused.filter((k) => k === "reduce_mean").length);
    expect(fused.length).toBeLessThan(plain.length);
    expect(ops(1, "eval").some((k) => k.startsWith("batchnorm_"))).toBe(false);
  });

  it("fuses each norm's SiLU into it (act silu), and only where nothing else reads the norm's output", () => {
    const step = buildGraph(model, { batch: 2, mode: "step", opt: 1 });
    const applies = step.nodes.filter((n) => !isSource(n) && n.op === "batchnorm_apply");
    expect(applies.length).toBeGreaterThan(3);
    // every BatchNorm of emb_unet is followed by a SiLU (pre-activation blocks, the embedding MLP)
    expect(applies.every((n) => !isSource(n) && n.op === "batchnorm_apply" && n.params.act === "silu")).toBe(true);
    const sigmoids = (g: typeof step) => g.nodes.filter((n) => !isSource(n) && n.op === "sigmoid").length;
    // (opt 0 with equal nodes merged as opt 1 merges them: the blocks' SiLU of the one embedding is one)
    expect(sigmoids(step)).toBe(sigmoids(buildGraph(model, { batch: 2, mode: "step", opt: 0, mergeCommon: true })) - applies.length);

    // by hand: fused where y feeds only its SiLU; left as it is where y is read besides (an output here)
    const b = new GraphBuilder();
    const x = b.input("x", [4, 3, 2, 2]);
    const y = b.op("batchnorm_apply", [x, b.op("batchnorm_stats", [x], {}), b.param("w", [3]), b.param("bias", [3])], { eps: 1e-5 });
    b.output("h", b.mul(y, b.sigmoid(y)));
    const fused = fuseNormActivations(b.build());
    expect(fused.nodes.filter((n) => !isSource(n)).map((n) => n.op)).toEqual(["batchnorm_stats", "batchnorm_apply"]);
    b.output("y", y);
    const kept = b.build();
    expect(fuseNormActivations(kept)).toBe(kept);
  });

  const devices: DeviceKind[] = typeof gpu === "string" ? ["reference"] : ["reference", "webgpu"];
  it.each(devices.map((d) => [d]))("trains the same with and without it (%s)", { timeout: 120_000 }, async (device) => {
    const [a, b] = [await twoSteps(model, device, 1, { buffers: true }), await twoSteps(model, device, 0, { buffers: true })];
    for (let s = 0; s < 2; s++) expect(Math.abs(a.losses[s] - b.losses[s])).toBeLessThan(1e-5 * Math.abs(b.losses[s]) + 1e-6);
    let worst = 0;
    for (const [name, want] of b.state) {
      const got = a.state.get(name)!;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    }
    expect(worst).toBeLessThan(1e-4); // lr 1e-2: an update of a few 1e-2; gradients of opposite sign flip it
  });
});

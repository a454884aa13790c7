// Attention lowers to the fused op (ops/attention.ts) at opt 1 and to matmuls and a softmax at
// opt 0; both training steps compute the same loss, and after an Adam step the same parameters,
// on the reference interpreter and on WebGPU (per-kernel checks: tests/webgpu/kernels-attention).
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { LOSS } from "../../compiler/ir/step-contract.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { Rng } from "../../runtime/session/rng.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const checked = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=2", "attn_start=1", "classes=3"] });
const model = checked.graph!;
const gpu = await getGpu();

const kinds = (opt: 0 | 1) => new Set(buildGraph(model, { batch: 2, mode: "step", opt }).nodes.filter((n) => !isSource(n)).map((n) => n.op));

/** Loss of two Adam steps and every parameter after them. */
async function twoSteps(device: DeviceKind, opt: 0 | 1): Promise<{ losses: number[]; params: Map<string, Float32Array | Float64Array | Int32Array> }> {
  const session = await createStepSession(model, { batch: 4, optimizer: "adam", device, seed: 3, opt });
  const batch = syntheticBatch(model, 4, new Rng(5));
  const losses: number[] = [];
  for (let step = 1; step <= 2; step++) {
    session.feedBatch(batch);
    session.setHyper({ lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0, step });
    session.runner.run();
    losses.push((await session.runner.read(LOSS)).data[0]);
  }
  const params = new Map<string, Float32Array | Float64Array | Int32Array>();
  for (const p of model.parameters) if (p.kind === "param") params.set(p.name, (await session.runner.read(p.name)).data);
  return { losses, params };
}

describe("fused attention", () => {
  it("opt 1 lowers attention to the fused op, opt 0 to matmuls and a softmax", () => {
    const [fused, plain] = [kinds(1), kinds(0)];
    expect(fused.has("attention") && fused.has("attention_stats") && fused.has("attention_grad")).toBe(true);
    expect(fused.has("softmax")).toBe(false);
    expect(plain.has("softmax") && !plain.has("attention")).toBe(true);
  });

  const devices: DeviceKind[] = typeof gpu === "string" ? ["reference"] : ["reference", "webgpu"];
  it.each(devices.map((d) => [d]))("trains the same with and without it (%s)", { timeout: 120_000 }, async (device) => {
    const [a, b] = [await twoSteps(device, 1), await twoSteps(device, 0)];
    for (let s = 0; s < 2; s++) expect(Math.abs(a.losses[s] - b.losses[s])).toBeLessThan(1e-5 * Math.abs(b.losses[s]) + 1e-6);
    let worst = 0;
    for (const [name, want] of b.params) {
      const got = a.params.get(name)!;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    expect(worst).toBeLessThan(1e-4); // lr 1e-2: an update of a few 1e-2; gradients of opposite sign flip it
  });
});

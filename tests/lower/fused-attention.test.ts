// Attention lowers to the fused op (ops/attention.ts) at opt 1 and to matmuls and a softmax at
// opt 0; both training steps compute the same loss, and after an Adam step the same parameters,
// on the reference interpreter and on WebGPU (per-kernel checks: tests/webgpu/kernels-attention).
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { twoSteps } from "../support/two-steps.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const checked = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=2", "attn_start=1", "classes=3"] });
const model = checked.graph!;
const gpu = await getGpu();

const kinds = (opt: 0 | 1) => new Set(buildGraph(model, { batch: 2, mode: "step", opt }).nodes.filter((n) => !isSource(n)).map((n) => n.op));

describe("fused attention", () => {
  it("opt 1 lowers attention to the fused op, opt 0 to matmuls and a softmax", () => {
    const [fused, plain] = [kinds(1), kinds(0)];
    expect(fused.has("attention") && fused.has("attention_lse") && fused.has("attention_stats") && fused.has("attention_grad")).toBe(true);
    expect(fused.has("softmax")).toBe(false);
    expect(plain.has("softmax") && !plain.has("attention")).toBe(true);
  });

  const devices: DeviceKind[] = typeof gpu === "string" ? ["reference"] : ["reference", "webgpu"];
  it.each(devices.map((d) => [d]))("trains the same with and without it (%s)", { timeout: 120_000 }, async (device) => {
    const [a, b] = [await twoSteps(model, device, 1), await twoSteps(model, device, 0)];
    for (let s = 0; s < 2; s++) expect(Math.abs(a.losses[s] - b.losses[s])).toBeLessThan(1e-5 * Math.abs(b.losses[s]) + 1e-6);
    let worst = 0;
    for (const [name, want] of b.state) {
      const got = a.state.get(name)!;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    expect(worst).toBeLessThan(1e-4); // lr 1e-2: an update of a few 1e-2; gradients of opposite sign flip it
  });
});

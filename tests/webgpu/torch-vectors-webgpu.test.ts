// The PyTorch vectors of tests/reference also pass on Dawn: `unetc run --mode step --device webgpu`
// on the small conditional attention config gives PyTorch's loss, gradients and Adam step, and
// the same as `--device reference`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { runModel } from "../../runtime/session/run-model.js";
import { readSafetensorsFile } from "../../runtime/io/safetensors.js";
import { getGpu } from "./gpu-harness.js";
import { relErr } from "../support/rel-err.js";

const gpu = await getGpu();
const VECTORS = "tests/reference/vectors/small_attn_cond.safetensors";
const SET = ["nfs=[8,16]", "attn_chans=4", "classes=3", "size=8"];

describe.skipIf(typeof gpu === "string")(`PyTorch vectors on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("unetc run --mode step --device webgpu equals PyTorch and the reference device", { timeout: 600_000 }, async () => {
    const model = checkSpec("models/lesson/emb_unet.unet", { set: SET }).graph!;
    const dir = mkdtempSync(join(tmpdir(), "unetc-webgpu-"));
    const base = { weights: VECTORS, inputs: VECTORS, mode: "step" as const, optimizer: "adam" as const, lr: 1e-3, eps: 1e-5, weightDecay: 0, beta1: 0.9, beta2: 0.999 };
    await runModel(model, { ...base, device: "webgpu", out: join(dir, "gpu.safetensors") });
    await runModel(model, { ...base, device: "reference", out: join(dir, "ref.safetensors") });
    const [g, r, torch] = await Promise.all([join(dir, "gpu.safetensors"), join(dir, "ref.safetensors"), VECTORS].map(readSafetensorsFile));
    expect(relErr(g.tensors.get("loss")!, torch.tensors.get("train.loss")!, 1e-12)).toBeLessThan(1e-5);
    expect(relErr(g.tensors.get("output")!, torch.tensors.get("train.output")!, 1e-12)).toBeLessThan(1e-5);
    let worstTorch = 0;
    let worstRef = 0;
    for (const [name, t] of g.tensors) {
      const ref = r.tensors.get(name)!;
      worstRef = Math.max(worstRef, relErr(t, ref, 1e-3));
      const key = name.startsWith("grad.") ? name : torch.tensors.has(`step.${name}`) ? `step.${name}` : torch.tensors.has(`train.${name}`) ? `train.${name}` : undefined;
      if (key && name !== "output" && name !== "loss") worstTorch = Math.max(worstTorch, relErr(t, torch.tensors.get(key)!, 1e-3));
    }
    expect(worstTorch).toBeLessThan(1e-4);
    expect(worstRef).toBeLessThan(1e-4);
  });
});

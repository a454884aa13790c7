// The whole training step of a small conditional attention model, run for 3 steps on Dawn,
// matches the reference interpreter: loss, every parameter, BatchNorm statistics and Adam state.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { Rng } from "../../runtime/session/rng.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();
// The config of the small_attn_cond PyTorch vectors, so its kernels are shared with that test.
const SMALL = ["nfs=[8,16]", "attn_chans=4", "classes=3", "size=8"];

describe.skipIf(typeof gpu === "string")(`training step on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("3 steps of the small conditional attention model match the reference interpreter", { timeout: 600_000 }, async () => {
    const checked = checkSpec("models/lesson/emb_unet.unet", { set: SMALL });
    if (!checked.graph) throw new Error(renderDiagnostics(checked.diagnostics));
    const model = checked.graph;
    const batch = 4;
    const sessions = await Promise.all(["reference", "webgpu"].map((device) => createStepSession(model, { batch, optimizer: "adam", device: device as "reference" | "webgpu", seed: 3 })));
    const rng = new Rng(11);
    const losses: number[][] = [[], []];
    for (let step = 1; step <= 3; step++) {
      const data = syntheticBatch(model, batch, rng);
      for (const [i, s] of sessions.entries()) {
        s.feedBatch(data);
        s.setHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step });
        s.runner.run();
        losses[i].push((await s.runner.read("loss")).data[0]);
      }
    }
    for (let k = 0; k < 3; k++) expect(Math.abs(losses[1][k] - losses[0][k]) / losses[0][k]).toBeLessThan(1e-4);
    // Every parameter, buffer and optimizer moment after 3 steps.
    let worst = 0;
    let worstName = "";
    const names = model.parameters.map((p) => p.name).concat(model.parameters.filter((p) => p.kind === "param").flatMap((p) => [`adam.m.${p.name}`, `adam.v.${p.name}`]));
    for (const name of names) {
      const [a, b] = await Promise.all(sessions.map((s) => s.runner.read(name)));
      let diff = 0;
      let scale = 1e-3;
      for (let i = 0; i < a.data.length; i++) {
        diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
        scale = Math.max(scale, Math.abs(a.data[i]));
      }
      if (diff / scale > worst) (worst = diff / scale), (worstName = name);
    }
    expect(worst, `worst tensor ${worstName}`).toBeLessThan(2e-4);
    for (const s of sessions) s.runner.destroy();
  });
});

// Correctness on whatever adapter this machine has, without the test runner (for the lent GPU
// machine, which has no npm): 3 training steps of a small conditional attention model on WebGPU
// against the reference interpreter. Exits non-zero on a mismatch.
import { checkSpec } from "../compiler/check/check.js";
import { LOSS } from "../compiler/ir/step-contract.js";
import { createStepSession, syntheticBatch } from "../runtime/session/step-session.js";
import { Rng } from "../runtime/session/rng.js";
import { describeAdapter } from "../runtime/webgpu/device.js";

const model = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[8,16]", "attn_chans=4", "classes=3", "size=8", "num_layers=1"] }).graph!;
const batch = 4;
const sessions = await Promise.all((["reference", "webgpu"] as const).map((device) => createStepSession(model, { batch, optimizer: "adam", device, seed: 3 })));
console.log(describeAdapter(sessions[1].gpu!));
const rng = new Rng(11);
for (let step = 1; step <= 3; step++) {
  const data = syntheticBatch(model, batch, rng);
  const losses: number[] = [];
  for (const s of sessions) {
    s.feedBatch(data);
    s.setHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step });
    s.runner.run();
    losses.push((await s.runner.read(LOSS)).data[0]);
  }
  console.log(`step ${step}: loss reference ${losses[0].toFixed(6)} webgpu ${losses[1].toFixed(6)}`);
}
let worst = 0;
let worstName = "";
for (const p of model.parameters) {
  const [a, b] = await Promise.all(sessions.map((s) => s.runner.read(p.name)));
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(a.data[i]));
  }
  if (diff / scale > worst) (worst = diff / scale), (worstName = p.name);
}
console.log(`after 3 steps: worst relative difference of ${model.parameters.length} parameters and buffers ${worst.toExponential(2)} (${worstName})`);
process.exitCode = worst < 2e-4 ? 0 : 1;

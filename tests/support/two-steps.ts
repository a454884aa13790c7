// Two Adam steps of a model's compiled training step on a synthetic batch: the losses, then every
// parameter (and buffer) after them. What the fused-op tests compare between opt 1 and opt 0.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { LOSS } from "../../compiler/ir/step-contract.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { Rng } from "../../runtime/session/rng.js";
import type { DeviceKind } from "../../runtime/session/runner.js";

export type StateData = Float32Array | Float64Array | Int32Array;

export async function twoSteps(model: ModelGraph, device: DeviceKind, opt: 0 | 1, o: { buffers?: boolean } = {}): Promise<{ losses: number[]; state: Map<string, StateData> }> {
  const session = await createStepSession(model, { batch: 4, optimizer: "adam", device, seed: 3, opt });
  try {
    const batch = syntheticBatch(model, 4, new Rng(5));
    const losses: number[] = [];
    for (let step = 1; step <= 2; step++) {
      session.feedBatch(batch);
      session.setHyper({ lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0, step });
      session.runner.run();
      losses.push((await session.runner.read(LOSS)).data[0]);
    }
    const state = new Map<string, StateData>();
    for (const p of model.parameters) if (p.kind === "param" || o.buffers) state.set(p.name, (await session.runner.read(p.name)).data);
    return { losses, state };
  } finally {
    session.runner.destroy();
  }
}

// The TF.js baseline of `npm run bench` (bench/tfjs/emb-unet.ts) is the same model as unetc's
// emb_unet: from the same initial parameters and the same batch, the TF.js model on its CPU
// backend and unetc's reference interpreter compute the same loss and the same gradient of every
// parameter, and the same loss again after one Adam step (so Adam and the BatchNorm running stats
// agree too, not only the forward).
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { gradName, LOSS } from "../../compiler/ir/step-contract.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { initParameters } from "../../runtime/session/init.js";
import { Rng } from "../../runtime/session/rng.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { configFromModel, TfjsEmbUNet } from "../../bench/tfjs/emb-unet.js";
import { BENCH_ADAM } from "../../bench/time-steps.js";

const HYPER = BENCH_ADAM;
const BATCH = 4;
const TINY = ["nfs=[8,16]", "num_layers=1", "attn_chans=4", "classes=3", "size=8"];

function tinyModel(): ModelGraph {
  const checked = checkSpec("models/lesson/emb_unet.unet", { set: TINY });
  if (!checked.graph) throw new Error("the tiny emb_unet does not check");
  return checked.graph;
}

/** unetc's losses of `steps` Adam steps on one batch, on the reference interpreter, and the first step's gradients. */
async function referenceRun(model: ModelGraph, batch: Map<string, Tensor>, steps: number): Promise<{ losses: number[]; grads: Map<string, Tensor> }> {
  const session = await createStepSession(model, { batch: BATCH, optimizer: "adam", device: "reference", seed: 0 });
  const losses: number[] = [];
  const grads = new Map<string, Tensor>();
  for (let step = 1; step <= steps; step++) {
    session.feedBatch(batch);
    session.setHyper({ ...HYPER, weightDecay: 0, step });
    session.runner.run();
    losses.push((await session.runner.read(LOSS)).data[0]);
    if (step === 1) {
      for (const p of model.parameters) if (p.kind === "param") grads.set(p.name, await session.runner.read(gradName(p.name)));
    }
  }
  return { losses, grads };
}

/** The TF.js model's losses from the same parameters; `perturb` changes one initial parameter. */
function tfjsLosses(model: ModelGraph, batch: Map<string, Tensor>, steps: number, perturb?: string): number[] {
  const params = initParameters(model, 0); // the seed createStepSession uses
  if (perturb) {
    const t = params.get(perturb)!;
    const data = Float32Array.from(t.data);
    data[0] += 0.05;
    params.set(perturb, { shape: t.shape, data });
  }
  const net = new TfjsEmbUNet(configFromModel(model), model.parameters, params, HYPER);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = net.step(batch);
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  net.dispose();
  return losses;
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe("the TF.js EmbUNet baseline", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    await tf.ready();
  });

  it("computes unetc's loss on one batch, before and after an Adam step, and its gradients", async () => {
    const model = tinyModel();
    const batch = syntheticBatch(model, BATCH, new Rng(1));
    const { losses: ref, grads } = await referenceRun(model, batch, 2);
    const before = tf.memory().numTensors;
    const mine = tfjsLosses(model, batch, 2);
    expect(tf.memory().numTensors).toBe(before); // a step leaks no tensors (the bench runs many)
    expect(ref[1]).not.toBe(ref[0]); // the step changed the parameters
    expect(relDiff(mine[0], ref[0])).toBeLessThan(1e-5);
    expect(relDiff(mine[1], ref[1])).toBeLessThan(1e-5);

    const net = new TfjsEmbUNet(configFromModel(model), model.parameters, initParameters(model, 0), HYPER);
    const myGrads = net.gradients(batch);
    net.dispose();
    expect([...myGrads.keys()].sort()).toEqual([...grads.keys()].sort());
    for (const [name, g] of grads) {
      const mine = myGrads.get(name)!;
      expect(mine.shape, name).toEqual(g.shape);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < g.data.length; i++) {
        scale = Math.max(scale, Math.abs(g.data[i]));
        worst = Math.max(worst, Math.abs(g.data[i] - mine.data[i]));
      }
      // relative to the tensor's largest gradient; the biases that BatchNorm cancels are ~1e-9 noise
      expect(worst, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
  });

  it("tells a different model apart: one perturbed weight changes the loss beyond the tolerance", () => {
    const model = tinyModel();
    const batch = syntheticBatch(model, BATCH, new Rng(1));
    const [plain] = tfjsLosses(model, batch, 1);
    const [perturbed] = tfjsLosses(model, batch, 1, "conv_in.weight");
    expect(relDiff(perturbed, plain)).toBeGreaterThan(1e-4);
  });
});

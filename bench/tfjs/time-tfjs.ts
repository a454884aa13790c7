// Times the TF.js EmbUNet's training step as bench/time-steps.ts times unetc's: the same batch,
// the same initial parameters (unetc's initialisation with the benchmark's seed), the same Adam,
// the first step apart, then the median; each step ends by reading the loss, which waits for the
// GPU. Runs on whichever TF.js backend is current.
import * as tf from "@tensorflow/tfjs-core";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { initParameters } from "../../runtime/session/init.js";
import { BENCH_ADAM, BENCH_SEED, benchBatch, summarize, type StepTimes } from "../time-steps.js";
import { configFromModel, TfjsEmbUNet } from "./emb-unet.js";

export async function timeTfjsSteps(model: ModelGraph, batch: number, steps: number): Promise<StepTimes & { tensorsLeaked: number }> {
  const data = benchBatch(model, batch);
  const net = new TfjsEmbUNet(configFromModel(model), model.parameters, initParameters(model, BENCH_SEED), BENCH_ADAM);
  const times: number[] = [];
  const losses: number[] = [];
  let tensors = 0;
  for (let s = 1; s <= steps + 1; s++) {
    const t = performance.now();
    const loss = net.step(data);
    losses.push((await loss.data())[0]);
    times.push(performance.now() - t);
    loss.dispose();
    if (s === 1) tensors = tf.memory().numTensors; // after the first step: Adam's moments exist
  }
  const tensorsLeaked = tf.memory().numTensors - tensors;
  net.dispose();
  return { ...summarize(times, losses), tensorsLeaked };
}

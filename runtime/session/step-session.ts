// A compiled training step on a device, ready to run: the step graph (forward, loss, backward,
// optimizer update), its runner, freshly initialised parameters and zero optimizer state.
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import type { Graph } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { lowerModel } from "../../compiler/passes/lower/lower.js";
import { buildTrainStep, lossForTask, type OptimizerKind } from "../../compiler/passes/step/index.js";
import { acquireDevice, type GpuContext } from "../webgpu/device.js";
import { initParameters } from "./init.js";
import { Rng } from "./rng.js";
import { ReferenceRunner, WebGpuRunner, type DeviceKind, type GraphRunner } from "./runner.js";

export interface StepSessionOptions {
  batch: number;
  optimizer: OptimizerKind;
  device: DeviceKind;
  seed: number;
}

export interface StepSession {
  graph: Graph;
  runner: GraphRunner;
  gpu?: GpuContext;
  /** Writes one batch of inputs (by the model's input names, plus `target`). */
  feedBatch(batch: Map<string, Tensor>): void;
  /** Writes the optimizer's scalars for update number `step` (1-based). */
  setHyper(h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }): void;
}

export async function createStepSession(model: ModelGraph, opts: StepSessionOptions): Promise<StepSession> {
  const graph = buildTrainStep(lowerModel(model, { batch: opts.batch, mode: "train" }), { optimizer: opts.optimizer, loss: lossForTask(modelTask(model)) });
  let gpu: GpuContext | undefined;
  let runner: GraphRunner;
  if (opts.device === "webgpu") {
    gpu = await acquireDevice();
    runner = await WebGpuRunner.create(gpu, graph);
  } else runner = new ReferenceRunner(graph);
  for (const [name, t] of initParameters(model, opts.seed)) runner.write(name, t);
  for (const n of graph.nodes) {
    if (isSource(n) && n.name.startsWith("adam.")) runner.write(n.name, { shape: [...n.shape], data: new Float32Array(n.shape.reduce((a, b) => a * b, 1)) });
  }
  return {
    graph,
    runner,
    gpu,
    feedBatch: (batch) => {
      for (const [name, t] of batch) runner.write(name, t);
    },
    setHyper: (h) => {
      runner.write("lr", h.lr);
      runner.write("beta1", h.beta1);
      runner.write("beta2", h.beta2);
      runner.write("eps", h.eps);
      runner.write("weight_decay", h.weightDecay);
      runner.write("step", h.step);
    },
  };
}

/** A batch of random data of the model's input shapes (for smoke runs and benchmarks). */
export function syntheticBatch(model: ModelGraph, batch: number, rng: Rng): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  for (const i of model.inputs) {
    if (i.kind === "image") out.set(i.name, { shape: [batch, ...i.shape], data: normal(batch * i.shape.reduce((a, b) => a * b, 1)) });
    else if (i.kind === "timestep") out.set(i.name, { shape: [batch], data: Float32Array.from({ length: batch }, () => rng.uniform() * 0.999) });
    else out.set(i.name, { shape: [batch], data: Int32Array.from({ length: batch }, () => Math.floor(rng.uniform() * (i.classes ?? 1))) });
  }
  const image = model.inputs.find((i) => i.kind === "image");
  const outShape = model.nodes[model.output].shape;
  if (image) out.set("target", { shape: [batch, ...outShape], data: normal(batch * outShape.reduce((a, b) => a * b, 1)) });
  return out;
}

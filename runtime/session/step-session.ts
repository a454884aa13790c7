// A compiled training step on a device, ready to run: the step graph (forward, loss, backward,
// optimizer update), its runner, freshly initialised parameters and zero optimizer state.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { Compiled, OptimizerKind, OptLevel, TileTable } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { HYPER_PARAMS, isAdamState, TARGET, type HyperParam } from "../../compiler/ir/step-contract.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { GpuContext } from "../webgpu/device.js";
import { initParameters } from "./init.js";
import { Rng } from "./rng.js";
import { openRunner, type DeviceKind, type GraphRunner } from "./runner.js";

export interface StepSessionOptions {
  batch: number;
  optimizer: OptimizerKind;
  device: DeviceKind;
  seed: number;
  /** Optimization level of the compiled step (default 1; 0: every optimization off). */
  opt?: OptLevel;
  /** GEMM tiles in place of the device's tuned ones (a tuning run's candidates; {} for the defaults). */
  tiles?: TileTable;
}

export interface StepSession {
  graph: Graph;
  /** The compiled step: kernels, memory plan and its report. */
  compiled: Compiled;
  runner: GraphRunner;
  gpu?: GpuContext;
  /** Writes one batch of inputs (by the model's input names, plus `target`). */
  feedBatch(batch: Map<string, Tensor>): void;
  /** Writes the optimizer's scalars for update number `step` (1-based). */
  setHyper(h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }): void;
}

export async function createStepSession(model: ModelGraph, opts: StepSessionOptions): Promise<StepSession> {
  const { compiled, runner, gpu } = await openRunner(model, { batch: opts.batch, mode: "step", optimizer: opts.optimizer, opt: opts.opt, ...(opts.tiles ? { tiles: opts.tiles } : {}) }, opts.device);
  const graph = compiled.graph;
  for (const [name, t] of initParameters(model, opts.seed)) runner.write(name, t);
  for (const n of graph.nodes) {
    if (isSource(n) && isAdamState(n.name)) runner.write(n.name, { shape: [...n.shape], data: new Float32Array(n.shape.reduce((a, b) => a * b, 1)) });
  }
  return {
    graph,
    compiled,
    runner,
    gpu,
    feedBatch: (batch) => {
      for (const [name, t] of batch) runner.write(name, t);
    },
    setHyper: (h) => {
      const hyper: Record<HyperParam, number> = { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weight_decay: h.weightDecay, step: h.step };
      for (const name of HYPER_PARAMS) runner.write(name, hyper[name]);
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
  if (image) out.set(TARGET, { shape: [batch, ...outShape], data: normal(batch * outShape.reduce((a, b) => a * b, 1)) });
  return out;
}

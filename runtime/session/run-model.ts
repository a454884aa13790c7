// `unetc run`: execute a model on named tensors read from safetensors files, write every output.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { buildGraph, compileGraph, type CompileOptions, type OptimizerKind } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { isAdamState, isGradient, LOSS, OUTPUT, replacedSource, type HyperParam } from "../../compiler/ir/step-contract.js";
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from "../io/safetensors.js";
import type { Feed } from "../reference/index.js";
import { stateDictTensor, withDefaultCounters } from "../io/state-dict.js";
import { batchOf, bindSources } from "./tensor-io.js";
import { createRunner, openDevice, type DeviceKind } from "./runner.js";
import { describeAdapter } from "../webgpu/device.js";
import type { Tensor } from "../../compiler/ir/tensor.js";

export interface RunOptions {
  weights: string;
  inputs: string;
  out: string;
  mode: "eval" | "train" | "step";
  device: DeviceKind;
  optimizer: OptimizerKind;
  lr: number;
  eps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
}

/** Runs one model evaluation (or one training step) and writes every output, named. */
export async function runModel(model: ModelGraph, opts: RunOptions): Promise<string[]> {
  const [weights, inputs] = await Promise.all([readSafetensorsFile(opts.weights), readSafetensorsFile(opts.inputs)]);
  const batch = batchOf(model, inputs.tensors);
  const o: CompileOptions = { batch, mode: opts.mode, optimizer: opts.optimizer };
  // The graph's sources are checked against the tensors before a device is opened.
  const graph = buildGraph(model, o);
  const given: Record<string, Feed> = {};
  if (opts.mode === "step") {
    const hyper: Record<HyperParam, number> = { lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, weight_decay: opts.weightDecay, step: 1 };
    Object.assign(given, hyper);
    // A fresh optimizer: zero moments.
    for (const n of graph.nodes) if (isSource(n) && isAdamState(n.name)) given[n.name] = { shape: [...n.shape], data: new Float32Array(n.shape.reduce((a, b) => a * b, 1)) };
  }
  // A state_dict saved without BatchNorm's counters loads, as in PyTorch.
  const params = withDefaultCounters(model, weights.tensors);
  const feeds = bindSources(graph, [inputs.tensors, params], given);
  const device = await openDevice(opts.device);
  if (device.gpu) process.stderr.write(`${describeAdapter(device.gpu)}\n`);
  const runner = await createRunner(device, compileGraph(graph, { ...o, ...device.target }));
  for (const [name, v] of Object.entries(feeds)) runner.write(name, v);
  runner.run();
  const outputs: Record<string, Tensor> = {};
  for (const o of graph.outputs) outputs[o.name] = await runner.read(o.name);
  runner.destroy();
  const dtypes = new Map(model.parameters.map((p) => [p.name, p.dtype]));
  const written = new Map<string, TensorToWrite>();
  // Parameters and buffers as PyTorch stores them (counters I64); everything else F32.
  const put = (name: string, t: { shape: readonly number[]; data: Float32Array | Float64Array | Int32Array }) => {
    written.set(name, stateDictTensor(dtypes.get(name) ?? "f32", t));
  };
  put(OUTPUT, outputs[OUTPUT]);
  if (outputs[LOSS]) put(LOSS, outputs[LOSS]);
  for (const [name, t] of Object.entries(outputs)) {
    const source = replacedSource(name);
    if (isGradient(name)) put(name, t);
    else if (source !== undefined && !isAdamState(source)) put(source, t);
  }
  if (opts.mode === "step") {
    // Parameters and buffers the step did not change (none today) still belong in the result.
    for (const p of model.parameters) if (!written.has(p.name)) put(p.name, params.get(p.name)!);
  }
  await writeSafetensorsFile(opts.out, written, { generator: "unetc run", model: model.name, mode: opts.mode, batch: String(batch) });
  return [...written.keys()];
}

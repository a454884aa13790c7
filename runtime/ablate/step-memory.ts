// The planned device memory of a variant's training step, for the report's "Peak MiB" column.
// The compiler's own step and memory plan, from the model alone, so variants compare on any
// machine: a hardware adapter's schedule, the spec's default alignment, and bindings as large as
// a desktop GPU's (a batch whose attention scores pass the spec's 128 MiB minimum still has a
// figure); one number per variant, since the seeds do not change it.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { compile } from "../../compiler/compile.js";
import type { TrainConfig } from "../train/checkpoint.js";

const PLANNING_LIMITS = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31, maxStorageBuffersPerShaderStage: 10 };

export function plannedStepBytes(model: ModelGraph, config: TrainConfig): number {
  const compiled = compile(model, { batch: config.batch, mode: "step", optimizer: config.optimizer, lossSum: true, ema: config.ema !== undefined, limits: PLANNING_LIMITS, hardware: true });
  return compiled.report.totalBytes;
}

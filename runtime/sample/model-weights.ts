// Where a denoiser's weights come from, for sample, eval and fine-tuning: a unetc run's checkpoint
// (its EMA average where it has one), or a plain state_dict file from anywhere (PyTorch,
// diffusers, `unetc export --to state-dict`) checked against the spec by name, shape and dtype as
// PyTorch's load_state_dict(strict=True) checks it.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { FASHION_MNIST_CLASSES } from "../data/fashion-mnist.js";
import type { ScheduleKind } from "../diffusion/schedules.js";
import { existsSync, statSync } from "node:fs";
import { readSafetensorsFile, readSafetensorsMetadata } from "../io/safetensors.js";
import { checkStateDict, stateDictOf, stateDictTensors } from "../io/state-dict.js";
import { CHECKPOINT_FORMAT, readCheckpoint, type Checkpoint } from "../train/checkpoint.js";
import { checkpointWeights } from "./sample.js";

/** A model's weights and what is known of their origin. */
export interface ModelWeights {
  readonly weights: Map<string, Tensor>;
  /** Whether these are a checkpoint's EMA average. */
  readonly ema: boolean;
  /** The checkpoint or state_dict file. */
  readonly path: string;
  /** A checkpoint's training step; null for a plain state_dict. */
  readonly step: number | null;
  /** The noise schedule the model was trained with; undefined when unknown (the sampler then decides). */
  readonly schedule?: ScheduleKind;
  /** Class names by label (a plain state_dict: Fashion-MNIST's for 10 classes, the lesson's data; else "class i"). */
  readonly classNames: readonly string[];
  /** The training data, when known. */
  readonly data?: string;
}

/** A run's weights: the EMA average where the checkpoint has one (unless `ema` is false). */
export function weightsFromCheckpoint(model: ModelGraph, ckpt: Checkpoint, ema = true): ModelWeights {
  const w = checkpointWeights(model, ckpt, ema);
  const m = ckpt.meta;
  return { weights: w.weights, ema: w.ema, path: ckpt.path, step: m.position.step, schedule: m.config.schedule, classNames: m.classNames, data: m.config.data };
}

/** Class names for a model whose data is unknown. */
export function defaultClassNames(model: ModelGraph): string[] {
  const k = model.inputs.find((i) => i.kind === "label")?.classes ?? 0;
  return k === FASHION_MNIST_CLASSES.length ? [...FASHION_MNIST_CLASSES] : Array.from({ length: k }, (_, i) => `class ${i}`);
}

/**
 * A plain state_dict (F32, F16, BF16 or F64 floats; counters I64, I32 or whole floats, or absent)
 * for `model`; a StateDictError lists every missing, unexpected and mis-shaped tensor.
 */
export async function readStateDictWeights(model: ModelGraph, path: string, against = "the spec"): Promise<ModelWeights> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  if (metadata.format === CHECKPOINT_FORMAT) {
    throw new UserError(`${path} is a unetc training checkpoint, not a plain state_dict: give its run folder or file in place of --spec/--weights, or take its weights out with \`unetc export ${path} --to state-dict --out W.safetensors\``);
  }
  checkStateDict(tensors, stateDictOf(model), { what: path, against, optionalCounters: true });
  return { weights: stateDictTensors(model, tensors), ema: false, path, step: null, classNames: defaultClassNames(model) };
}

/** Weights to start training from: a run folder or checkpoint (its EMA average where it has one), or a plain state_dict file. */
export async function readInitWeights(model: ModelGraph, path: string, against = "the spec"): Promise<ModelWeights> {
  const isRun = !existsSync(path) || statSync(path).isDirectory() || (await readSafetensorsMetadata(path)).format === CHECKPOINT_FORMAT;
  return isRun ? weightsFromCheckpoint(model, await readCheckpoint(path)) : readStateDictWeights(model, path, against);
}

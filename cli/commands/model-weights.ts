// The model and weights a command runs (sample, eval): a run folder or checkpoint, or a spec with
// a plain state_dict from anywhere (`--spec S.unet [--set ...] --weights W.safetensors`).
import { statSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { readStateDictWeights, weightsFromCheckpoint, type ModelWeights } from "../../runtime/sample/model-weights.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { trainedDevice } from "../../runtime/train/from-checkpoint.js";
import { addModelOptions } from "../options.js";
import { checkOrReport } from "../report.js";
import { checkpointModel } from "./checkpoint-model.js";

export interface WeightsFlags {
  spec?: string;
  weights?: string;
  set: string[];
  model?: string;
  ema: boolean;
  color?: boolean;
}

/** --spec, --weights, --set and --model: a model from a spec file and weights from a state_dict. */
export function addWeightsOptions(c: Command): Command {
  c.option("--spec <file>", "with --weights: the .unet spec the weights are for (instead of a run folder)").option(
    "--weights <file>",
    "with --spec: a plain state_dict (safetensors; F32, F16 or BF16; num_batches_tracked optional), e.g. saved from PyTorch",
  );
  return addModelOptions(c, "with --spec: override a model parameter (repeatable)");
}

export interface ResolvedWeights {
  readonly model: ModelGraph;
  readonly weights: ModelWeights;
  /** Where to run when --device is not given: where the run was trained, else WebGPU. */
  readonly device: DeviceKind;
  /** The folder results go to by default: the run folder, or the weights file's. */
  readonly folder: string;
}

/** The model and its weights from `run`, or from --spec and --weights; a usage error when neither or both are given. */
export async function resolveWeights(run: string | undefined, flags: WeightsFlags): Promise<ResolvedWeights> {
  if (run !== undefined) {
    if (flags.spec || flags.weights) throw new UsageError("give a run folder (or checkpoint), or --spec and --weights, not both");
    if (flags.set.length || flags.model) throw new UsageError("--set and --model go with --spec; a run keeps the overrides it was trained with");
    const ckpt = await readCheckpoint(run);
    const model = checkpointModel(ckpt, flags);
    return { model, weights: weightsFromCheckpoint(model, ckpt, flags.ema), device: trainedDevice(ckpt), folder: statSync(run).isDirectory() ? run : dirname(run) };
  }
  if (!flags.spec || !flags.weights) {
    throw new UsageError(flags.spec || flags.weights ? `${flags.spec ? "--spec" : "--weights"} needs ${flags.spec ? "--weights" : "--spec"}: the spec says what the weights are for` : "give a run folder (from unetc train), or --spec S.unet --weights W.safetensors");
  }
  const { model } = checkOrReport(flags.spec, { set: flags.set, model: flags.model, color: flags.color });
  if (!model) throw new UserError(`${flags.spec} does not check (shown above)`);
  const weights = await readStateDictWeights(model, flags.weights, `the spec ${flags.spec}`);
  return { model, weights, device: "webgpu", folder: dirname(flags.weights) };
}

// The model of a run, for the commands that start from a checkpoint (sample, eval): its stored
// spec checked again, the diagnostics shown, a UserError when it no longer checks.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { Checkpoint } from "../../runtime/train/checkpoint.js";
import { modelFromCheckpoint, staleSpecMessage } from "../../runtime/train/from-checkpoint.js";
import { reportCheck } from "../report.js";

export function checkpointModel(ckpt: Checkpoint, opts: { color?: boolean }): ModelGraph {
  const { model } = reportCheck(modelFromCheckpoint(ckpt), opts);
  if (!model) throw new UserError(staleSpecMessage(ckpt));
  return model;
}

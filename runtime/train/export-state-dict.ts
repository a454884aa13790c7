// `unetc export RUN --to state-dict`: a run's model tensors as a plain PyTorch state_dict in
// safetensors (no Adam or EMA state; floats F32, num_batches_tracked I64), which the course's
// PyTorch models load with load_state_dict(strict=True). --ema takes the EMA average as the
// model's weights (the counters, which are not averaged, stay the model's own).
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { writeSafetensorsFile } from "../io/safetensors.js";
import { toStateDict } from "../io/state-dict.js";
import { checkpointWeights } from "../sample/sample.js";
import { CheckpointError, type Checkpoint } from "./checkpoint.js";

export interface StateDictExport {
  readonly path: string;
  readonly tensors: number;
  readonly values: number;
  readonly ema: boolean;
  readonly step: number;
}

export async function exportStateDict(model: ModelGraph, ckpt: Checkpoint, out: string, o: { ema: boolean }): Promise<StateDictExport> {
  const w = checkpointWeights(model, ckpt, o.ema);
  if (o.ema && !w.ema) throw new CheckpointError(`${ckpt.path} has no EMA weights (the run was trained without --ema); export without --ema for its weights`);
  const tensors = toStateDict(model, w.weights);
  const s = ckpt.meta.spec;
  const step = ckpt.meta.position.step;
  // "format": "pt" is what safetensors' torch helpers write; the rest says where the weights came from.
  await writeSafetensorsFile(out, tensors, {
    format: "pt",
    unetc_model: s.model,
    unetc_spec: s.path,
    unetc_overrides: JSON.stringify(s.overrides),
    unetc_step: String(step),
    unetc_weights: w.ema ? "ema" : "raw",
  });
  let values = 0;
  for (const t of tensors.values()) values += t.data.length;
  return { path: out, tensors: tensors.size, values, ema: w.ema, step };
}

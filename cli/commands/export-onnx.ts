// `unetc export RUN --to onnx --out M.onnx [--batch N] [--ema]`: a run's model as an ONNX file
// (compiler/emit/onnx: the inference graph at a fixed batch, the weights as initializers), which
// onnxruntime runs with the same results as unetc (tests/interop/onnx.test.ts).
import { ONNX_OPSET, modelToOnnx } from "../../compiler/emit/onnx/onnx.js";
import { UsageError } from "../../compiler/diagnostics/user-error.js";
import { writeFileAtomic } from "../../runtime/data/atomic-write.js";
import { weightsFromCheckpoint } from "../../runtime/sample/model-weights.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { jsonPath, printJson, proseFor } from "../json-output.js";
import { checkpointModel } from "./checkpoint-model.js";

export interface OnnxFlags {
  out: string;
  batch?: number;
  ema?: boolean;
  set: string[];
  model?: string;
  json?: boolean;
  color?: boolean;
}

export async function toOnnx(run: string, flags: OnnxFlags): Promise<number> {
  if (flags.set.length || flags.model) throw new UsageError("--set and --model do not apply to --to onnx: a run keeps the overrides it was trained with");
  const say = proseFor(flags.json);
  const ckpt = await readCheckpoint(run);
  const model = checkpointModel(ckpt, flags);
  const w = weightsFromCheckpoint(model, ckpt, flags.ema === true);
  if (flags.ema && !w.ema) throw new UsageError(`${ckpt.path} has no EMA weights (the run was trained without --ema); export without --ema for its weights`);
  const batch = flags.batch ?? 1;
  const bytes = modelToOnnx(model, w.weights, { batch, docString: `${model.name} from ${ckpt.path} at step ${w.step}, ${w.ema ? "EMA" : "raw"} weights` });
  await writeFileAtomic(flags.out, bytes);
  const inputs = model.inputs.map((i) => `${i.name} [${[batch, ...i.shape].join(", ")}]`).join(", ");
  say(`wrote ${flags.out}: ${model.name} at step ${w.step} (${w.ema ? "EMA" : "raw"} weights), ONNX opset ${ONNX_OPSET}, inputs ${inputs}, ${(bytes.length / 1e6).toFixed(1)} MB`);
  if (flags.json) printJson({ command: "export", ok: true, to: "onnx", model: model.name, step: w.step, weights: w.ema ? "ema" : "raw", batch, opset: ONNX_OPSET, bytes: bytes.length, files: { onnx: jsonPath(flags.out) } });
  return 0;
}

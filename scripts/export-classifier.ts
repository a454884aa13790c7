// Copies a trained classifier's weights (parameters and BatchNorm buffers; no optimizer state)
// out of its run folder into the file FID/KID read, keeping the checkpoint's metadata (the spec's
// text, the recipe) and adding the held-out accuracy.
//   npx tsx scripts/export-classifier.ts RUN [OUT]
import { join } from "node:path";
import { checkSpec } from "../compiler/check/check.js";
import { modelTask } from "../compiler/check/model-graph.js";
import { writeSafetensorsFile } from "../runtime/io/safetensors.js";
import { toStateDict } from "../runtime/io/state-dict.js";
import { CLASSIFIER_WEIGHTS } from "../runtime/metrics/classifier.js";
import { encodeMeta, readCheckpoint } from "../runtime/train/checkpoint.js";
import { METRICS_FILE } from "../runtime/train/loop.js";
import { MetricsLog } from "../runtime/train/metrics.js";

const [run, out = CLASSIFIER_WEIGHTS] = process.argv.slice(2);
if (!run) {
  process.stderr.write("usage: npx tsx scripts/export-classifier.ts RUN [OUT]\n");
  process.exit(2);
}
const ckpt = await readCheckpoint(run);
const s = ckpt.meta.spec;
const model = checkSpec(s.path, { text: s.source, set: [...s.overrides], model: s.model }).graph;
if (!model || modelTask(model) !== "classify") throw new Error(`${run}: not a classifier run`);
if (ckpt.meta.position.epoch < ckpt.meta.config.epochs) throw new Error(`${run}: the run has not finished its ${ckpt.meta.config.epochs} epochs`);
const last = MetricsLog.read(join(run, METRICS_FILE)).filter((r) => r.kind === "epoch").at(-1);
if (!last) throw new Error(`${run}: its metrics log has no finished epoch`);
const tensors = toStateDict(model, new Map(model.parameters.map((p) => [p.name, ckpt.tensors.get(p.name)!]))); // counters I64, as PyTorch
await writeSafetensorsFile(out, tensors, { ...encodeMeta(ckpt.meta), eval_accuracy: String(last.eval_accuracy), eval_loss: String(last.eval_loss) });
process.stdout.write(`wrote ${out}: ${tensors.size} tensors, held-out accuracy ${(100 * (last.eval_accuracy ?? NaN)).toFixed(2)}%\n`);

// `unetc eval run-folder [--n 2048]` (or `--spec S --weights W` for a plain state_dict): FID and
// KID of a trained denoiser's samples against the
// Fashion-MNIST test split, with the classifier of models/metrics (see runtime/metrics). Writes
// eval.json and a grid of the first samples into the run folder; --json prints the figures and
// those files as one JSON object on stdout (the prose on stderr).
import { join } from "node:path";
import { type Command, Option } from "commander";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { defaultSampler } from "../../runtime/diffusion/default-sampler.js";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../../runtime/diffusion/samplers.js";
import { EVAL_FILE, EVAL_SAMPLES_FILE, evalRecord, writeEvalRecord } from "../../runtime/metrics/eval-record.js";
import { evaluateRun } from "../../runtime/metrics/evaluate-run.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { writeSampleGrid } from "../../runtime/sample/sample.js";
import { formatSeconds } from "../../runtime/train/duration.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { describeDevice } from "../../runtime/train/runners.js";
import { jsonPath, printJson, proseFor } from "../json-output.js";
import { addColorOptions, deviceOption, numberOption, type SetExit } from "../options.js";
import { barStep, samplingBar } from "../progress.js";
import { addWeightsOptions, resolveWeights, type WeightsFlags } from "./model-weights.js";

interface EvalFlags extends WeightsFlags {
  n: number;
  sampler?: SamplerKind;
  steps: number;
  eta: number;
  seed: number;
  device?: DeviceKind;
  batch?: number;
  out?: string;
  classifier?: string;
  json?: boolean;
}

export function addEvalCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("eval")
    .description("FID and KID of a trained model's samples against the Fashion-MNIST test images (the course's metric)")
    .argument("[run]", "a run folder (from unetc train) or a checkpoint file; or give --spec and --weights")
    .addOption(numberOption("--n <n>", "images to sample (the course: 2048; at least 8)", RULES.positiveInt, 2048))
    .addOption(new Option("--sampler <name>", "ddim/ddpm for cosine-trained models; euler, euler_ancestral, heun, lms for Karras (default: ddim or euler)").choices([...SAMPLERS]))
    .addOption(numberOption("--steps <n>", "sampling steps (the course: 100)", RULES.positiveInt, 100))
    .addOption(numberOption("--eta <x>", "DDIM's eta (0 or more)", RULES.nonnegative, 1))
    .addOption(numberOption("--seed <n>", "seed of the sampler's noise", RULES.seed, 0))
    .addOption(deviceOption("where to run (default: where the run was trained)"))
    .addOption(numberOption("--batch <n>", "the most images per model run (default 64)", RULES.positiveInt))
    .option("--no-ema", "use the raw weights even when the checkpoint has EMA weights")
    .option("--out <file>", `where to write the results (default: ${EVAL_FILE} in the run folder, or beside --weights)`)
    .option("--classifier <file>", "the feature extractor's weights (default: models/metrics/fmnist_classifier.safetensors)")
    .option("--json", "print one JSON object (FID, KID and the files written) on stdout; progress and prose go to stderr");
  addColorOptions(addWeightsOptions(command)).action(async (run: string | undefined, flags: EvalFlags) => setExit(await runEval(run, flags)));
}

async function runEval(run: string | undefined, flags: EvalFlags): Promise<number> {
  const say = proseFor(flags.json);
  const started = performance.now();
  const src = await resolveWeights(run, flags);
  const { model, weights, folder } = src;
  const sampler = flags.sampler ?? defaultSampler(weights.schedule ?? "cosine");
  const schedule = weights.schedule ?? samplerSchedule(sampler);
  if (samplerSchedule(sampler) !== schedule) {
    throw new UserError(`the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; this one was trained with ${schedule}`);
  }
  const device = flags.device ?? src.device;
  const out = flags.out ?? join(folder, EVAL_FILE);
  say(await describeDevice(device));
  say(`sampling ${flags.n} images from ${model.name} ${weights.step === null ? `(weights ${weights.path})` : `at step ${weights.step}`}: ${sampler}, ${flags.steps} steps`);
  const bar = samplingBar();
  try {
    const ev = await evaluateRun(model, weights, {
      n: flags.n,
      sampler,
      steps: flags.steps,
      eta: flags.eta,
      seed: flags.seed,
      device,
      batch: flags.batch,
      classifier: flags.classifier,
      onInfo: (line) => {
        bar?.stop();
        say(line);
      },
      onStep: (i, total) => barStep(bar, i, total),
    });
    bar?.stop();
    const rec = evalRecord(ev, weights, { sampler, steps: flags.steps, eta: flags.eta, seed: flags.seed, device });
    await writeEvalRecord(out, rec);
    const first = Math.min(64, ev.samples.count);
    const [, C, H, W] = ev.samples.shape;
    const grid = join(folder, EVAL_SAMPLES_FILE);
    await writeSampleGrid(grid, { ...ev.samples, images: ev.samples.images.subarray(0, first * C * H * W), count: first, cols: 8, shape: [first, C, H, W] });
    const seconds = (performance.now() - started) / 1000;
    say(`FID ${rec.fid.toFixed(2)}, KID ${rec.kid.toFixed(4)} (${rec.n} samples vs ${rec.reference.images} test images at ${rec.reference.size}x${rec.reference.size}, classifier ${rec.classifier.id})`);
    say(`wrote ${out} and ${grid} in ${formatSeconds(seconds)}`);
    // eval.json's figures (JSON has no NaN: a failed FID is null), then this invocation's time and files.
    if (flags.json) printJson({ command: "eval", ok: true, checkpoint: weights.step === null ? null : jsonPath(weights.path), model: model.name, ...rec, wallSeconds: Number(seconds.toFixed(3)), files: { eval: jsonPath(out), samples: jsonPath(grid) } });
    return 0;
  } finally {
    bar?.stop();
  }
}

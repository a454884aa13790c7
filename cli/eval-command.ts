// `unetc eval run-folder [--n 2048]`: FID and KID of a trained denoiser's samples against the
// Fashion-MNIST test split, with the classifier of models/metrics (see runtime/metrics). Writes
// eval.json and a grid of the first samples into the run folder.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../runtime/diffusion/samplers.js";
import { writeFileAtomic } from "../runtime/data/atomic-write.js";
import { evaluateRun, type RunEvaluation } from "../runtime/metrics/evaluate-run.js";
import type { DeviceKind } from "../runtime/session/runner.js";
import { writeSampleGrid } from "../runtime/sample/sample.js";
import { readCheckpoint, type Checkpoint } from "../runtime/train/checkpoint.js";
import { describeDevice } from "../runtime/train/runners.js";
import { barStep, samplingBar } from "./sample-command.js";
import { formatSeconds, modelFromCheckpoint, numberArg, runCommand, type SetExit } from "./train-command.js";

export const EVAL_FILE = "eval.json";
export const EVAL_SAMPLES_FILE = "eval-samples.png";

interface EvalFlags {
  n: number;
  sampler?: SamplerKind;
  steps: number;
  eta: number;
  seed: number;
  device?: DeviceKind;
  batch?: number;
  ema: boolean;
  out?: string;
  classifier?: string;
  color?: boolean;
}

/** What eval.json holds. */
export interface EvalRecord {
  readonly fid: number;
  readonly kid: number;
  readonly n: number;
  readonly reference: { readonly images: number; readonly source: string; readonly size: number };
  readonly classifier: { readonly id: string; readonly features: number };
  readonly sampler: { readonly name: SamplerKind; readonly steps: number; readonly eta: number; readonly seed: number; readonly ema: boolean };
  readonly checkpointStep: number;
  readonly device: DeviceKind;
  readonly seconds: { readonly sample: number; readonly metrics: number };
}

export function evalRecord(ev: RunEvaluation, ckpt: Checkpoint, o: { sampler: SamplerKind; steps: number; eta: number; seed: number; device: DeviceKind }): EvalRecord {
  const q = ev.quality;
  return {
    fid: q.fid,
    kid: q.kid,
    n: q.n,
    reference: { images: q.referenceCount, source: "fashion-mnist test split", size: q.size },
    classifier: { id: q.classifier, features: q.featureDim },
    sampler: { name: o.sampler, steps: o.steps, eta: o.eta, seed: o.seed, ema: ev.ema },
    checkpointStep: ckpt.meta.position.step,
    device: o.device,
    seconds: ev.seconds,
  };
}

export function addEvalCommand(program: Command, setExit: SetExit): void {
  program
    .command("eval")
    .description("FID and KID of a trained model's samples against the Fashion-MNIST test images (the course's metric)")
    .argument("<run>", "a run folder (from unetc train) or a checkpoint file")
    .option("--n <n>", "images to sample (the course: 2048; at least 8)", numberArg("positive-int"), 2048)
    .addOption(new Option("--sampler <name>", "ddim/ddpm for cosine-trained models; euler, euler_ancestral, heun, lms for Karras (default: ddim or euler)").choices([...SAMPLERS]))
    .option("--steps <n>", "sampling steps (the course: 100)", numberArg("positive-int"), 100)
    .option("--eta <x>", "DDIM's eta", numberArg("nonnegative"), 1)
    .option("--seed <n>", "seed of the sampler's noise", numberArg("nonnegative-int"), 0)
    .addOption(new Option("--device <device>", "where to run (default: where the run was trained)").choices(["webgpu", "reference"]))
    .option("--batch <n>", "the most images per model run (default 64)", numberArg("positive-int"))
    .option("--no-ema", "use the raw weights even when the checkpoint has EMA weights")
    .option("--out <file>", `where to write the results (default: ${EVAL_FILE} in the run folder)`)
    .option("--classifier <file>", "the feature extractor's weights (default: models/metrics/fmnist_classifier.safetensors)")
    .addOption(new Option("--color", "colour diagnostics").default(undefined))
    .option("--no-color", "plain diagnostics")
    .action((run: string, flags: EvalFlags) => runCommand(setExit, () => runEval(run, flags)));
}

async function runEval(run: string, flags: EvalFlags): Promise<number> {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const ckpt = await readCheckpoint(run);
  const model = modelFromCheckpoint(ckpt, flags.color);
  if (!model) return 1;
  const schedule = ckpt.meta.config.schedule;
  const sampler: SamplerKind = flags.sampler ?? (schedule === "cosine" ? "ddim" : "euler");
  if (samplerSchedule(sampler) !== schedule) {
    process.stderr.write(`error: the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; this one was trained with ${schedule}\n`);
    return 1;
  }
  const device: DeviceKind = flags.device ?? (ckpt.meta.device === "reference" ? "reference" : "webgpu");
  const folder = statSync(run).isDirectory() ? run : dirname(run);
  const out = flags.out ?? join(folder, EVAL_FILE);
  print(await describeDevice(device));
  print(`sampling ${flags.n} images from ${model.name} at step ${ckpt.meta.position.step}: ${sampler}, ${flags.steps} steps`);
  const bar = samplingBar();
  try {
    const ev = await evaluateRun(model, ckpt, {
      n: flags.n,
      sampler,
      steps: flags.steps,
      eta: flags.eta,
      seed: flags.seed,
      device,
      batch: flags.batch,
      ema: flags.ema,
      classifier: flags.classifier,
      onInfo: (line) => {
        bar?.stop();
        print(line);
      },
      onStep: (i, total) => barStep(bar, i, total),
    });
    bar?.stop();
    const rec = evalRecord(ev, ckpt, { sampler, steps: flags.steps, eta: flags.eta, seed: flags.seed, device });
    await writeFileAtomic(out, Buffer.from(JSON.stringify(rec, null, 2) + "\n"));
    const first = Math.min(64, ev.samples.count);
    const [, C, H, W] = ev.samples.shape;
    await writeSampleGrid(join(folder, EVAL_SAMPLES_FILE), { ...ev.samples, images: ev.samples.images.subarray(0, first * C * H * W), count: first, cols: 8, shape: [first, C, H, W] });
    print(`FID ${rec.fid.toFixed(2)}, KID ${rec.kid.toFixed(4)} (${rec.n} samples vs ${rec.reference.images} test images at ${rec.reference.size}x${rec.reference.size}, classifier ${rec.classifier.id})`);
    print(`wrote ${out} and ${join(folder, EVAL_SAMPLES_FILE)} in ${formatSeconds((performance.now() - started) / 1000)}`);
    return 0;
  } finally {
    bar?.stop();
  }
}

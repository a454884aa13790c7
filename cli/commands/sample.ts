// `unetc sample run-folder|checkpoint [options]`: a PNG grid of images from a trained model
// (its EMA weights when the checkpoint has them); one row per class for a class-conditional
// model unless --class picks one.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { modelTask } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { defaultSampler } from "../../runtime/diffusion/default-sampler.js";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../../runtime/diffusion/samplers.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { checkpointWeights, resolveClass, sampleImages, writeSampleGrid } from "../../runtime/sample/sample.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { formatSeconds } from "../../runtime/train/duration.js";
import { trainedDevice } from "../../runtime/train/from-checkpoint.js";
import { describeDevice } from "../../runtime/train/runners.js";
import { addColorOptions, deviceOption, numberArg, type SetExit } from "../options.js";
import { barStep, samplingBar } from "../progress.js";
import { print } from "../report.js";
import { checkpointModel } from "./checkpoint-model.js";

interface SampleFlags {
  sampler?: SamplerKind;
  steps: number;
  eta: number;
  n: number;
  class?: string;
  seed: number;
  out?: string;
  device?: DeviceKind;
  batch?: number;
  ema: boolean;
  color?: boolean;
}

export function addSampleCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("sample")
    .description("sample images from a trained model and write a PNG grid")
    .argument("<run>", "a run folder (from unetc train) or a checkpoint file")
    .addOption(new Option("--sampler <name>", "ddim/ddpm for cosine-trained models; euler, euler_ancestral, heun, lms for Karras (default: ddim or euler)").choices([...SAMPLERS]))
    .option("--steps <n>", "sampling steps", numberArg("positive-int"), 100)
    .option("--eta <x>", "DDIM's eta (1: the lesson's default; 0: deterministic)", numberArg("nonnegative"), 1)
    .option("--n <n>", "images to draw (a class-conditional model without --class draws n / classes per class, default 8)", numberArg("positive-int"), 64)
    .option("--class <name|index>", "draw only this class (a name such as Trouser, or an index)")
    .option("--seed <n>", "seed of the sampler's noise", numberArg("nonnegative-int"), 0)
    .option("--out <file>", "where to write the grid (default: samples.png in the run folder)")
    .addOption(deviceOption("where to run (default: where the run was trained)"))
    .option("--batch <n>", "the most images per model run (default 64; the images are split evenly)", numberArg("positive-int"))
    .option("--no-ema", "use the raw weights even when the checkpoint has EMA weights");
  addColorOptions(command).action(async (run: string, flags: SampleFlags, cmd: Command) => setExit(await runSample(run, flags, cmd)));
}

async function runSample(run: string, flags: SampleFlags, cmd: Command): Promise<number> {
  const started = performance.now();
  const ckpt = await readCheckpoint(run);
  const model = checkpointModel(ckpt, flags);
  if (modelTask(model) === "classify") throw new UserError(`${model.name} is a classifier; sampling draws images from a denoiser`);
  const schedule = ckpt.meta.config.schedule;
  const sampler = flags.sampler ?? defaultSampler(schedule);
  const { weights, ema } = checkpointWeights(model, ckpt, flags.ema);
  const label = model.inputs.find((i) => i.kind === "label");
  const classIndex = flags.class !== undefined ? resolveClass(flags.class, ckpt.meta.classNames) : undefined;
  if (classIndex !== undefined && !label) throw new UserError(`model ${model.name} is not class-conditional, so it takes no --class`);
  const nGiven = cmd.getOptionValueSource("n") === "cli";
  const perClass = label && classIndex === undefined ? (nGiven ? Math.max(1, Math.floor(flags.n / (label.classes ?? 1))) : 8) : undefined;
  const isDir = statSync(run).isDirectory();
  const out = flags.out ?? join(isDir ? run : dirname(run), "samples.png");

  const device = flags.device ?? trainedDevice(ckpt);
  print(await describeDevice(device));
  const what =
    perClass !== undefined
      ? `${perClass} images for each of ${label!.classes} classes`
      : `${flags.n} images${classIndex !== undefined ? ` of class ${classIndex} (${ckpt.meta.classNames[classIndex] ?? "?"})` : ""}`;
  const etaText = sampler === "ddim" ? ` (eta ${flags.eta})` : "";
  print(`sampling ${what} from ${model.name} at step ${ckpt.meta.position.step}: ${sampler}${etaText}, ${flags.steps} steps, ${ema ? "EMA" : "raw"} weights`);
  if (samplerSchedule(sampler) !== schedule) {
    throw new UserError(`the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; this one was trained with ${schedule}`);
  }

  const bar = samplingBar();
  try {
    const r = await sampleImages(model, weights, { sampler, steps: flags.steps, eta: flags.eta, n: flags.n, perClass, classIndex, seed: flags.seed, device, batch: flags.batch, schedule, onStep: (i, total) => barStep(bar, i, total) });
    bar?.stop();
    await writeSampleGrid(out, r);
    const layout = perClass !== undefined ? `${label!.classes} rows (one per class: ${ckpt.meta.classNames.join(", ")}) of ${perClass}` : `${Math.ceil(r.count / r.cols)} rows of ${r.cols}`;
    print(`wrote ${out}: ${r.count} images, ${layout}; ${r.evaluations} model runs of batch ${r.batch} in ${formatSeconds((performance.now() - started) / 1000)}`);
    return 0;
  } finally {
    bar?.stop();
  }
}

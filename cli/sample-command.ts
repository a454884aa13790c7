// `unetc sample run-folder|checkpoint [options]`: a PNG grid of images from a trained model
// (its EMA weights when the checkpoint has them); one row per class for a class-conditional
// model unless --class picks one.
import { dirname, join } from "node:path";
import { modelTask } from "../compiler/check/model-graph.js";
import { statSync } from "node:fs";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../runtime/diffusion/samplers.js";
import type { DeviceKind } from "../runtime/session/runner.js";
import { checkpointWeights, resolveClass, sampleImages, writeSampleGrid } from "../runtime/sample/sample.js";
import { readCheckpoint } from "../runtime/train/checkpoint.js";
import { describeDevice } from "../runtime/train/runners.js";
import { formatSeconds, modelFromCheckpoint, numberArg, runCommand, type SetExit } from "./train-command.js";

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
  program
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
    .addOption(new Option("--device <device>", "where to run (default: where the run was trained)").choices(["webgpu", "reference"]))
    .option("--batch <n>", "the most images per model run (default 64; the images are split evenly)", numberArg("positive-int"))
    .option("--no-ema", "use the raw weights even when the checkpoint has EMA weights")
    .addOption(new Option("--color", "colour diagnostics").default(undefined))
    .option("--no-color", "plain diagnostics")
    .action((run: string, flags: SampleFlags, cmd: Command) => runCommand(setExit, () => runSample(run, flags, cmd)));
}

async function runSample(run: string, flags: SampleFlags, cmd: Command): Promise<number> {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const ckpt = await readCheckpoint(run);
  const model = modelFromCheckpoint(ckpt, flags.color);
  if (!model) return 1;
  if (modelTask(model) === "classify") {
    process.stderr.write(`error: ${model.name} is a classifier; sampling draws images from a denoiser\n`);
    return 1;
  }
  const schedule = ckpt.meta.config.schedule;
  const sampler: SamplerKind = flags.sampler ?? (schedule === "cosine" ? "ddim" : "euler");
  const { weights, ema } = checkpointWeights(model, ckpt, flags.ema);
  const label = model.inputs.find((i) => i.kind === "label");
  const classIndex = flags.class !== undefined ? resolveClass(flags.class, ckpt.meta.classNames) : undefined;
  if (classIndex !== undefined && !label) {
    process.stderr.write(`error: model ${model.name} is not class-conditional, so it takes no --class\n`);
    return 1;
  }
  const nGiven = cmd.getOptionValueSource("n") === "cli";
  const perClass = label && classIndex === undefined ? (nGiven ? Math.max(1, Math.floor(flags.n / (label.classes ?? 1))) : 8) : undefined;
  const isDir = statSync(run).isDirectory();
  const out = flags.out ?? join(isDir ? run : dirname(run), "samples.png");

  const device: DeviceKind = flags.device ?? (ckpt.meta.device === "reference" ? "reference" : "webgpu");
  print(await describeDevice(device));
  const what =
    perClass !== undefined
      ? `${perClass} images for each of ${label!.classes} classes`
      : `${flags.n} images${classIndex !== undefined ? ` of class ${classIndex} (${ckpt.meta.classNames[classIndex] ?? "?"})` : ""}`;
  const etaText = sampler === "ddim" ? ` (eta ${flags.eta})` : "";
  print(`sampling ${what} from ${model.name} at step ${ckpt.meta.position.step}: ${sampler}${etaText}, ${flags.steps} steps, ${ema ? "EMA" : "raw"} weights`);
  if (samplerSchedule(sampler) !== schedule) {
    process.stderr.write(`error: the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; this one was trained with ${schedule}\n`);
    return 1;
  }

  const bar = samplingBar();
  try {
    const r = await sampleImages(model, weights, {
      sampler,
      steps: flags.steps,
      eta: flags.eta,
      n: flags.n,
      perClass,
      classIndex,
      seed: flags.seed,
      device,
      batch: flags.batch,
      schedule,
      onStep: (i, total) => barStep(bar, i, total),
    });
    bar?.stop();
    await writeSampleGrid(out, r);
    const layout = perClass !== undefined ? `${label!.classes} rows (one per class: ${ckpt.meta.classNames.join(", ")}) of ${perClass}` : `${Math.ceil(r.count / r.cols)} rows of ${r.cols}`;
    print(`wrote ${out}: ${r.count} images, ${layout}; ${r.evaluations} model runs of batch ${r.batch} in ${formatSeconds((performance.now() - started) / 1000)}`);
    return 0;
  } finally {
    bar?.stop();
  }
}

/** A progress bar over the sampler's steps on a terminal (none when stderr is not one). */
export function samplingBar(): SingleBar | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  return new SingleBar(
    { format: "sampling |{bar}| {value}/{total} steps | ETA {eta_formatted}", stream: process.stderr, hideCursor: true, barsize: 30 },
    { barCompleteChar: "\u2588", barIncompleteChar: "\u2591", format: "" },
  );
}

/** Advances `bar` after sampler step i of total (starting it at the first). */
export function barStep(bar: SingleBar | undefined, i: number, total: number): void {
  if (!bar) return;
  if (i === 0) bar.start(total, 0);
  bar.update(i + 1);
}

// `unetc sample run-folder|checkpoint [options]`: a labeled PNG grid of images from a trained
// model (its EMA weights when the checkpoint has them), or `unetc sample --spec S --weights W`
// from a plain state_dict trained anywhere. For a class-conditional model --n is the
// number per class, one row per class, unless --class picks one class (then --n images of it).
// --trajectory also writes x_t during sampling as a strip per image; --json prints one JSON
// object (the figures and files) on stdout and the prose on stderr.
import { join } from "node:path";
import { type Command, Option } from "commander";
import { modelTask } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { defaultSampler } from "../../runtime/diffusion/default-sampler.js";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../../runtime/diffusion/samplers.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { resolveClass, rowClassNames, sampleCaption, sampleImages, writeSampleGrid, writeTrajectoryStrip } from "../../runtime/sample/sample.js";
import { formatSeconds } from "../../runtime/train/duration.js";
import { describeDevice } from "../../runtime/train/runners.js";
import { jsonPath, jsonPathOrNull, printJson, proseFor } from "../json-output.js";
import { addColorOptions, deviceOption, numberOption, type SetExit } from "../options.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { barStep, samplingBar } from "../progress.js";
import { addWeightsOptions, resolveWeights, type WeightsFlags } from "./model-weights.js";

interface SampleFlags extends WeightsFlags {
  sampler?: SamplerKind;
  steps: number;
  eta: number;
  n?: number;
  class?: string;
  seed: number;
  out?: string;
  device?: DeviceKind;
  batch?: number;
  trajectory?: boolean;
  json?: boolean;
}

/** --n's defaults: per class for a class-conditional model without --class, in all otherwise. */
export const DEFAULT_PER_CLASS = 8;
export const DEFAULT_N = 64;
/** Strips in a trajectory figure at most (one per class, or the first images). */
const TRAJECTORY_ROWS = { perClass: 10, plain: 4 } as const;

export function addSampleCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("sample")
    .description("sample images from a trained model and write a labeled PNG grid")
    .argument("[run]", "a run folder (from unetc train) or a checkpoint file; or give --spec and --weights")
    .addOption(new Option("--sampler <name>", "ddim/ddpm for cosine-trained models; euler, euler_ancestral, heun, lms for Karras (default: ddim or euler)").choices([...SAMPLERS]))
    .addOption(numberOption("--steps <n>", "sampling steps", RULES.positiveInt, 100))
    .addOption(numberOption("--eta <x>", "DDIM's eta (1: the lesson's default; 0: deterministic)", RULES.nonnegative, 1))
    .addOption(numberOption("--n <n>", `images per class for a class-conditional model without --class (default ${DEFAULT_PER_CLASS}, one row per class); otherwise images in all (default ${DEFAULT_N})`, RULES.positiveInt))
    .option("--class <name|index>", "draw only this class (a name such as Trouser, or an index)")
    .addOption(numberOption("--seed <n>", "seed of the sampler's noise", RULES.seed, 0))
    .option("--out <file>", "where to write the grid (default: samples.png in the run folder)")
    .option("--trajectory", "also write the denoising trajectory (x_t at 7 steps, then the result; one row per class or image) beside the grid as <grid>-trajectory.png")
    .addOption(deviceOption("where to run (default: where the run was trained)"))
    .addOption(numberOption("--batch <n>", "the most images per model run (default 64; the images are split evenly)", RULES.positiveInt))
    .option("--no-ema", "use the raw weights even when the checkpoint has EMA weights")
    .option("--json", "print one JSON object (figures and files written) on stdout; progress and prose go to stderr");
  addColorOptions(addWeightsOptions(command)).action(async (run: string | undefined, flags: SampleFlags) => setExit(await runSample(run, flags)));
}

/** samples.png -> samples-trajectory.png */
const trajectoryPath = (grid: string): string => `${grid.replace(/\.png$/i, "")}-trajectory.png`;

async function runSample(run: string | undefined, flags: SampleFlags): Promise<number> {
  const say = proseFor(flags.json);
  const started = performance.now();
  const src = await resolveWeights(run, flags);
  const { model } = src;
  if (modelTask(model) === "classify") throw new UserError(`${model.name} is a classifier; sampling draws images from a denoiser`);
  const sampler = flags.sampler ?? defaultSampler(src.weights.schedule ?? "cosine");
  const schedule = src.weights.schedule ?? samplerSchedule(sampler);
  const { weights, ema, step } = src.weights;
  const label = model.inputs.find((i) => i.kind === "label");
  const classNames = src.weights.classNames;
  const classIndex = flags.class !== undefined ? resolveClass(flags.class, classNames) : undefined;
  if (classIndex !== undefined && !label) throw new UserError(`model ${model.name} is not class-conditional, so it takes no --class`);
  const rowPerClass = label !== undefined && classIndex === undefined;
  const classes = label?.classes ?? 1;
  const n = flags.n ?? (rowPerClass ? DEFAULT_PER_CLASS : DEFAULT_N);
  const out = flags.out ?? join(src.folder, "samples.png");
  if (samplerSchedule(sampler) !== schedule) {
    throw new UserError(`the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; this one was trained with ${schedule}`);
  }

  const device = flags.device ?? src.device;
  say(await describeDevice(device));
  const className = classIndex !== undefined ? (classNames[classIndex] ?? "?") : undefined;
  const what = rowPerClass ? `${n} images per class (${n * classes} in all)` : `${n} images${className !== undefined ? ` of class ${classIndex} (${className})` : ""}`;
  const etaText = sampler === "ddim" ? ` (eta ${flags.eta})` : "";
  const origin = step === null ? `(weights ${src.weights.path})` : `at step ${step}`;
  const kind = step === null ? "" : `, ${ema ? "EMA" : "raw"} weights`;
  say(`sampling ${what} from ${model.name} ${origin}: ${sampler}${etaText}, ${flags.steps} steps${kind}`);

  // The trajectory follows the first image of each class row, or the first few images.
  const follow = rowPerClass ? Array.from({ length: Math.min(classes, TRAJECTORY_ROWS.perClass) }, (_, c) => c * n) : Array.from({ length: Math.min(n, TRAJECTORY_ROWS.plain) }, (_, i) => i);
  const bar = flags.json ? undefined : samplingBar();
  try {
    const r = await sampleImages(model, weights, {
      sampler,
      steps: flags.steps,
      eta: flags.eta,
      n,
      classIndex,
      seed: flags.seed,
      device,
      batch: flags.batch,
      schedule,
      onStep: (i, total) => barStep(bar, i, total),
      ...(flags.trajectory ? { trajectory: { images: follow } } : {}),
    });
    bar?.stop();
    const caption = sampleCaption({ model: model.name, step, from: src.weights.path, ema, sampler, eta: flags.eta, steps: flags.steps, seed: flags.seed, what: rowPerClass ? `${n} per class` : what });
    const grid = await writeSampleGrid(out, r, { classNames, caption });
    const trajectory = flags.trajectory ? trajectoryPath(out) : undefined;
    if (trajectory) await writeTrajectoryStrip(trajectory, r, { classNames, caption, images: follow });
    const seconds = (performance.now() - started) / 1000;
    const layout = rowPerClass ? `${classes} rows (one per class: ${classNames.join(", ")}) of ${n}` : `${grid.rows} rows of ${grid.cols}`;
    say(`wrote ${out}: ${r.count} images, ${layout}; ${r.evaluations} model runs of batch ${r.batch} in ${formatSeconds(seconds)}`);
    if (trajectory) say(`wrote ${trajectory}: x_t of ${follow.length} image${follow.length === 1 ? "" : "s"} at steps ${r.trajectory!.steps.join(", ")} of ${flags.steps}, then the result`);
    if (flags.json) {
      printJson({
        command: "sample",
        ok: true,
        checkpoint: step === null ? null : jsonPath(src.weights.path),
        stateDict: step === null ? jsonPath(src.weights.path) : null,
        model: model.name,
        step,
        weights: ema ? "ema" : "raw",
        sampler,
        eta: sampler === "ddim" ? flags.eta : null,
        steps: flags.steps,
        seed: flags.seed,
        device,
        images: r.count,
        perClass: rowPerClass ? n : null,
        class: classIndex !== undefined ? { index: classIndex, name: className } : null,
        rows: grid.rows,
        cols: grid.cols,
        rowLabels: rowClassNames(r.labels, r.count, r.cols, classNames) ?? null,
        modelRuns: r.evaluations,
        batch: r.batch,
        seconds: Number(seconds.toFixed(3)),
        files: { grid: jsonPath(out), trajectory: jsonPathOrNull(trajectory) },
        ...(r.trajectory ? { trajectory: { rows: r.trajectory.rows, cols: r.trajectory.cols, steps: r.trajectory.steps, levels: r.trajectory.levels } } : {}),
      });
    }
    return 0;
  } finally {
    bar?.stop();
  }
}

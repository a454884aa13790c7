// The commands over a spec file: check (summary or diagnostics), compile (graphs, schedules,
// kernels), run (named tensors in and out) and run-step (the training step on random data).
import { type Command, Option } from "commander";
import { checkSpec } from "../../compiler/check/check.js";
import { summaryJson, summaryText } from "../../compiler/check/summary.js";
import { diagnosticToJson } from "../../compiler/diagnostics/render.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { compileText, type Emit } from "../../compiler/emit.js";
import { runModel } from "../../runtime/session/run-model.js";
import { TensorBindingError } from "../../runtime/session/tensor-io.js";
import type { DeviceKind } from "../../runtime/session/runner.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { runStep, type RunStepOptions } from "../../runtime/train/run-step.js";
import { printJson } from "../json-output.js";
import { addSpecOptions, deviceOption, numberOption, optimizerOption, optOption, type SetExit, type SpecOptions } from "../options.js";
import { checkOrReport, print, printDiagnostics } from "../report.js";
import { DEFAULT_TS_BATCH, runCompileTs, type CompileTsFlags } from "./compile-ts.js";

interface RunFlags {
  weights: string;
  inputs: string;
  out: string;
  mode: "eval" | "train" | "step";
  device: DeviceKind;
  optimizer: "adam" | "adamw";
  lr: number;
  eps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
}

function runChecks(files: string[], opts: SpecOptions): number {
  let worst = 0;
  const json: unknown[] = [];
  for (const [i, f] of files.entries()) {
    if (i > 0 && !opts.json) process.stdout.write("\n");
    worst = Math.max(worst, runCheck(f, opts, json));
  }
  if (opts.json) printJson(files.length === 1 ? json[0] : json);
  return worst;
}

function runCheck(file: string, opts: SpecOptions, json: unknown[]): number {
  const r = checkSpec(file, { set: opts.set, model: opts.model });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (opts.json) {
    json.push(r.graph && errors.length === 0 ? { ...summaryJson(r.graph, file), diagnostics: r.diagnostics.map(diagnosticToJson) } : { ok: false, file, diagnostics: r.diagnostics.map(diagnosticToJson) });
    return errors.length || !r.graph ? 1 : 0;
  }
  printDiagnostics(r.diagnostics, opts);
  if (errors.length || !r.graph) return 1;
  print(summaryText(r.graph, file));
  return 0;
}

function specCommand(program: Command, name: string, description: string): Command {
  const many = name === "check";
  return addSpecOptions(
    program
      .command(name)
      .description(description)
      .argument(many ? "<specs...>" : "<spec>", many ? "one or more .unet spec files" : "a .unet spec file"),
  );
}

/** The run command's binding problems, listed under one heading. */
async function runTensors(...args: Parameters<typeof runModel>): Promise<string[]> {
  try {
    return await runModel(...args);
  } catch (err) {
    if (err instanceof TensorBindingError) throw new UserError(`the tensors do not match the spec:\n${err.problems.map((p) => `  - ${p}`).join("\n")}`);
    throw err;
  }
}

export function addSpecCommands(program: Command, setExit: SetExit): void {
  specCommand(program, "check", "check a spec and print its per-layer summary and totals")
    .option("--json", "print the summary (or the diagnostics) as JSON")
    .action((files: string[], opts: SpecOptions) => setExit(runChecks(files, opts)));

  specCommand(program, "compile", "lower a spec and print its op graph, kernel schedule (with the memory plan) or WGSL; or write it as a typed TypeScript module (--emit ts)")
    .addOption(new Option("--emit <what>", "what to print: the inference or training-step (train-) graph, Graphviz, schedule or WGSL; ts: a TypeScript module in --out (the spec may then be a run folder or checkpoint)").choices(["graph", "dot", "schedule", "wgsl", "train-graph", "train-dot", "train-schedule", "train-wgsl", "ts"]).default("graph"))
    .addOption(numberOption("--batch <n>", `batch size the graph is compiled for (default 2; --emit ts: images per run, default ${DEFAULT_TS_BATCH})`, RULES.positiveInt))
    .addOption(optimizerOption("optimizer of the training step"))
    .option("--out <dir>", "--emit ts: the folder to write <model>.ts in")
    .option("--class-names <names>", "--emit ts: the class names, comma-separated (default: the checkpoint's, or class 0, class 1, ...)")
    .option("--hardware", "--emit ts: kernel tiles for a hardware GPU (default: for a software adapter)")
    .option("--runtime <specifier>", "--emit ts: how the module imports the runtime (default unetc/runtime)")
    .action(async (file: string, opts: SpecOptions & CompileTsFlags & { emit: Emit | "ts"; optimizer: "adam" | "adamw" }) => {
      if (opts.emit === "ts") return setExit(await runCompileTs(file, opts));
      const tsOnly = (["out", "classNames", "hardware", "runtime"] as const).find((k) => opts[k] !== undefined);
      if (tsOnly) throw new UsageError(`--${tsOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is an option of --emit ts`);
      const { model } = checkOrReport(file, opts);
      if (!model) return setExit(1);
      print(compileText(model, opts.emit, opts.batch ?? 2, opts.optimizer));
      setExit(0);
    });

  specCommand(program, "run", "run a model on named tensors and write every output (safetensors)")
    .requiredOption("--weights <file>", "parameters and buffers by name (safetensors)")
    .requiredOption("--inputs <file>", "inputs by the spec's input names, plus `target` for --mode step (safetensors)")
    .requiredOption("--out <file>", "where to write the outputs (safetensors)")
    .addOption(new Option("--mode <mode>", "eval: inference; train: batch statistics; step: loss, gradients and one optimizer step").choices(["eval", "train", "step"]).default("eval"))
    .addOption(deviceOption("where to run: a WebGPU adapter, or the CPU reference interpreter", "webgpu"))
    .addOption(optimizerOption("optimizer for --mode step"))
    .addOption(numberOption("--lr <x>", "learning rate (positive)", RULES.positive, 1e-3))
    .addOption(numberOption("--eps <x>", "Adam epsilon (positive)", RULES.positive, 1e-5))
    .addOption(numberOption("--weight-decay <x>", "weight decay (0 or more)", RULES.nonnegative, 0))
    .addOption(numberOption("--beta1 <x>", "Adam beta1, in [0, 1)", RULES.decay, 0.9))
    .addOption(numberOption("--beta2 <x>", "Adam beta2, in [0, 1)", RULES.decay, 0.999))
    .action(async (file: string, opts: SpecOptions & RunFlags) => {
      const { model } = checkOrReport(file, opts);
      if (!model) return setExit(1);
      const names = await runTensors(model, opts);
      print(`wrote ${names.length} tensors to ${opts.out} (${opts.mode} mode, ${opts.device} device)`);
      setExit(0);
    });

  specCommand(program, "run-step", "compile the training step and run it on random data: adapter, kernels, memory plan, loss")
    .addOption(numberOption("--steps <n>", "training steps to run", RULES.positiveInt, 3))
    .addOption(numberOption("--batch <n>", "batch size", RULES.positiveInt, 8))
    .addOption(numberOption("--seed <n>", "seed of the initialisation and the data", RULES.seed, 0))
    .addOption(deviceOption("where to run", "webgpu"))
    .addOption(optimizerOption("optimizer"))
    .addOption(numberOption("--lr <x>", "learning rate (positive)", RULES.positive, 1e-3))
    .addOption(optOption())
    .action(async (file: string, opts: SpecOptions & RunStepOptions) => {
      const { model } = checkOrReport(file, opts);
      if (!model) return setExit(1);
      await runStep(model, opts, print);
      setExit(0);
    });
}

#!/usr/bin/env node
// The unetc command line. Exit codes: 0 success, 1 invalid input (a spec, a value, a file),
// 2 usage errors (unknown command or flag), 3 internal errors (a unetc bug).
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { checkSpec } from "../compiler/check/check.js";
import { CODES, type DiagnosticCode } from "../compiler/diagnostics/codes.js";
import { diagnosticToJson, renderDiagnostics } from "../compiler/diagnostics/render.js";
import { summaryJson, summaryText } from "../compiler/check/summary.js";
import { compileText, type Emit } from "../compiler/emit.js";
import { runModel } from "../runtime/session/run-model.js";
import type { ModelGraph } from "../compiler/check/model-graph.js";
import { SafetensorsError } from "../runtime/io/safetensors.js";
import { TensorBindingError } from "../runtime/session/tensor-io.js";
import { DeviceError } from "../runtime/webgpu/device.js";
import { MemoryLimitError } from "../compiler/passes/memory-plan.js";
import { runStep } from "./run-step.js";
import { addTrainCommand } from "./train-command.js";
import { addSampleCommand } from "./sample-command.js";
import { addEvalCommand } from "./eval-command.js";
import { addAblateCommand } from "./ablate-command.js";

/** Prints a device or resource error (a user-facing condition, not a bug); false for others. */
function reportRuntimeError(err: unknown): boolean {
  if (err instanceof DeviceError || err instanceof MemoryLimitError) {
    process.stderr.write(`error: ${err.message}\n`);
    return true;
  }
  return false;
}

/** A number flag: finite, and positive / non-negative / an integer where asked. */
function numberArg(kind: "positive" | "nonnegative" | "positive-int") {
  return (text: string): number => {
    const v = Number(text);
    const ok = Number.isFinite(v) && (kind === "nonnegative" ? v >= 0 : v > 0) && (kind !== "positive-int" || Number.isInteger(v));
    if (!ok) throw new InvalidArgumentError(`expected a ${kind.replace("-", " ")} number, found "${text}"`);
    return v;
  };
}

/** Checks a spec for a command that goes on to compile or run it; diagnostics go to stderr. */
function checkedModel(file: string, opts: SpecOptions): ModelGraph | undefined {
  const r = checkSpec(file, { set: opts.set, model: opts.model });
  if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, { color: useColor(opts) }) + "\n");
  return r.graph && !r.diagnostics.some((d) => d.severity === "error") ? r.graph : undefined;
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface RunFlags {
  weights: string;
  inputs: string;
  out: string;
  mode: "eval" | "train" | "step";
  device: "reference" | "webgpu";
  optimizer: "adam" | "adamw";
  lr: number;
  eps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
}

interface SpecOptions {
  set: string[];
  model?: string;
  json?: boolean;
  color?: boolean;
}

function useColor(opts: SpecOptions): boolean {
  return opts.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
}

function runChecks(files: string[], opts: SpecOptions): number {
  let worst = 0;
  const json: unknown[] = [];
  for (const [i, f] of files.entries()) {
    if (i > 0 && !opts.json) process.stdout.write("\n");
    worst = Math.max(worst, runCheck(f, opts, json));
  }
  if (opts.json) process.stdout.write(JSON.stringify(files.length === 1 ? json[0] : json, null, 2) + "\n");
  return worst;
}

function runCheck(file: string, opts: SpecOptions, json: unknown[]): number {
  const r = checkSpec(file, { set: opts.set, model: opts.model });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (opts.json) {
    json.push(r.graph && errors.length === 0 ? { ...summaryJson(r.graph, file), diagnostics: r.diagnostics.map(diagnosticToJson) } : { ok: false, file, diagnostics: r.diagnostics.map(diagnosticToJson) });
    return errors.length || !r.graph ? 1 : 0;
  }
  if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, { color: useColor(opts) }) + "\n");
  if (errors.length || !r.graph) return 1;
  process.stdout.write(summaryText(r.graph, file) + "\n");
  return 0;
}

function specCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument(name === "check" ? "<specs...>" : "<spec>", name === "check" ? "one or more .unet spec files" : "a .unet spec file")
    .option("--set <key=value>", "override a model parameter (repeatable), e.g. --set attn_start=2 --set nfs=[16,32,64]", collect, [])
    .option("--model <name>", "the model to use when the file defines several")
    .addOption(new Option("--color", "colour diagnostics").default(undefined))
    .option("--no-color", "plain diagnostics");
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("unetc")
    .description("A compiler for diffusion UNets: check, compile, run, train and sample .unet specs")
    .version("0.1.0")
    .showHelpAfterError(true)
    .exitOverride();

  specCommand(program, "check", "check a spec and print its per-layer summary and totals")
    .option("--json", "print the summary (or the diagnostics) as JSON")
    .action((files: string[], opts: SpecOptions) => setExit(runChecks(files, opts)));

  specCommand(program, "compile", "lower a spec to its op graph and print it")
    .addOption(new Option("--emit <what>", "what to print").choices(["graph", "dot", "schedule", "wgsl", "train-graph", "train-dot", "train-schedule", "train-wgsl"]).default("graph"))
    .option("--batch <n>", "batch size the graph is compiled for", numberArg("positive-int"), 2)
    .addOption(new Option("--optimizer <name>", "optimizer of the training step").choices(["adam", "adamw"]).default("adam"))
    .action((file: string, opts: SpecOptions & { emit: Emit; batch: number; optimizer: "adam" | "adamw" }) => {
      const model = checkedModel(file, opts);
      if (!model) return setExit(1);
      process.stdout.write(compileText(model, opts.emit, opts.batch, opts.optimizer) + "\n");
      setExit(0);
    });

  specCommand(program, "run", "run a model on named tensors and write every output (safetensors)")
    .requiredOption("--weights <file>", "parameters and buffers by name (safetensors)")
    .requiredOption("--inputs <file>", "inputs by the spec's input names, plus `target` for --mode step (safetensors)")
    .requiredOption("--out <file>", "where to write the outputs (safetensors)")
    .addOption(new Option("--mode <mode>", "eval: inference; train: batch statistics; step: loss, gradients and one optimizer step").choices(["eval", "train", "step"]).default("eval"))
    .addOption(new Option("--device <device>", "where to run: a WebGPU adapter, or the CPU reference interpreter").choices(["webgpu", "reference"]).default("webgpu"))
    .addOption(new Option("--optimizer <name>", "optimizer for --mode step").choices(["adam", "adamw"]).default("adam"))
    .option("--lr <x>", "learning rate", numberArg("positive"), 1e-3)
    .option("--eps <x>", "Adam epsilon", numberArg("positive"), 1e-5)
    .option("--weight-decay <x>", "weight decay", numberArg("nonnegative"), 0)
    .option("--beta1 <x>", "Adam beta1", numberArg("positive"), 0.9)
    .option("--beta2 <x>", "Adam beta2", numberArg("positive"), 0.999)
    .action(async (file: string, opts: SpecOptions & RunFlags) => {
      const model = checkedModel(file, opts);
      if (!model) return setExit(1);
      try {
        const names = await runModel(model, opts);
        process.stdout.write(`wrote ${names.length} tensors to ${opts.out} (${opts.mode} mode, ${opts.device} device)\n`);
        setExit(0);
      } catch (err) {
        if (err instanceof SafetensorsError) process.stderr.write(`error: ${err.message}\n`);
        else if (err instanceof TensorBindingError) process.stderr.write(`error: the tensors do not match the spec:\n${err.problems.map((p) => `  - ${p}`).join("\n")}\n`);
        else if (!reportRuntimeError(err)) throw err;
        setExit(1);
      }
    });

  specCommand(program, "run-step", "compile the training step and run it on random data: adapter, kernels, memory plan, loss")
    .option("--steps <n>", "training steps to run", numberArg("positive-int"), 3)
    .option("--batch <n>", "batch size", numberArg("positive-int"), 8)
    .option("--seed <n>", "seed of the initialisation and the data", numberArg("nonnegative"), 0)
    .addOption(new Option("--device <device>", "where to run").choices(["webgpu", "reference"]).default("webgpu"))
    .addOption(new Option("--optimizer <name>", "optimizer").choices(["adam", "adamw"]).default("adam"))
    .option("--lr <x>", "learning rate", numberArg("positive"), 1e-3)
    .action(async (file: string, opts: SpecOptions & { steps: number; batch: number; seed: number; device: "webgpu" | "reference"; optimizer: "adam" | "adamw"; lr: number }) => {
      const model = checkedModel(file, opts);
      if (!model) return setExit(1);
      try {
        await runStep(model, opts, (line) => process.stdout.write(`${line}\n`));
        setExit(0);
      } catch (err) {
        if (!reportRuntimeError(err)) throw err;
        setExit(1);
      }
    });

  addTrainCommand(program, setExit);
  addSampleCommand(program, setExit);
  addEvalCommand(program, setExit);
  addAblateCommand(program, setExit);

  program
    .command("explain")
    .description("explain a diagnostic code, e.g. unetc explain E0401")
    .argument("<code>", "a diagnostic code")
    .action((code: string) => {
      const entry = CODES[code.toUpperCase() as DiagnosticCode];
      if (!entry) {
        process.stderr.write(`error: unknown diagnostic code \`${code}\`; codes are ${Object.keys(CODES).join(", ")}\n`);
        return setExit(2);
      }
      process.stdout.write(`${code.toUpperCase()}: ${entry.title}\n\n${entry.explain}\n`);
      setExit(0);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    }
    process.stderr.write(`internal error: ${(err as Error).message}\nThis is a bug in unetc; please report it with the command that caused it.\n`);
    if (process.env.UNETC_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 3;
  }
}

// `unetc check ... | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const code = await main(process.argv.slice(2));
process.exitCode = code;

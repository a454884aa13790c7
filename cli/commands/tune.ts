// `unetc tune`: time GEMM tile candidates in the model's training step on this adapter and keep
// the fastest per GEMM in the tile cache (runtime/session/tune.ts).
import type { Command } from "commander";
import { tuneStep, type TuneOptions } from "../../runtime/session/tune.js";
import { tuneText } from "../../runtime/session/tune-text.js";
import { addSpecOptions, numberArg, numberOption, optimizerOption, type SetExit, type SpecOptions } from "../options.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { checkOrReport, print, printError } from "../report.js";

interface TuneFlags {
  batch: number;
  steps: number;
  warmup: number;
  seed: number;
  optimizer: TuneOptions["optimizer"];
  margin: number;
  dryRun?: boolean;
  top: number;
  json?: boolean;
}

export function addTuneCommand(program: Command, setExit: SetExit): void {
  addSpecOptions(
    program
      .command("tune")
      .description("time GEMM tile candidates in the training step on this adapter and keep the fastest per GEMM for every later compile")
      .argument("<spec>", "a .unet spec file"),
  )
    .option("--batch <n>", "batch size (tune at the batch you train with)", numberArg("positive-int"), 32)
    .option("--steps <n>", "profiled steps per configuration (each kernel's median over them)", numberArg("positive-int"), 2)
    .option("--warmup <n>", "unprofiled steps before each profile (at least 1: a first step is slower)", numberArg("positive-int"), 1)
    .addOption(numberOption("--seed <n>", "seed of the initialisation and the data", RULES.seed, 0))
    .addOption(optimizerOption("optimizer"))
    .option("--margin <x>", "how much faster than the default a candidate must be to replace it", numberArg("nonnegative"), 0.05)
    .option("--dry-run", "measure and print, but leave the tile cache as it is")
    .option("--top <n>", "GEMMs to list", numberArg("positive-int"), 20)
    .option("--json", "print the result as one JSON object (progress goes to stderr)")
    .action(async (file: string, opts: SpecOptions & TuneFlags) => {
      const { model } = checkOrReport(file, opts);
      if (!model) return setExit(1);
      const result = await tuneStep(model, { ...opts, save: !opts.dryRun }, printError);
      print(opts.json ? JSON.stringify(result, null, 2) : tuneText(result, opts.top));
      setExit(0);
    });
}

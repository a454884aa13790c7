// `unetc profile`: the training step's static cost report and its kernels timed on the GPU,
// grouped by kind, phase and layer (runtime/session/profile.ts; the tables in profile-text.ts).
import type { Command } from "commander";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { profileStep, type ProfileOptions } from "../../runtime/session/profile.js";
import { profileText } from "../../runtime/session/profile-text.js";
import { addSpecOptions, numberArg, numberOption, optimizerOption, optOption, type SetExit, type SpecOptions } from "../options.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { checkOrReport, print, printError } from "../report.js";

export function addProfileCommand(program: Command, setExit: SetExit): void {
  addSpecOptions(
    program
      .command("profile")
      .description("compile the training step, time every kernel on the GPU and print them by kind and layer: time, share, FLOPs, bytes")
      .argument("<spec>", "a .unet spec file"),
  )
    .option("--batch <n>", "batch size", numberArg("positive-int"), 8)
    .option("--steps <n>", "profiled steps (each kernel's median over them)", numberArg("positive-int"), 3)
    .option("--warmup <n>", "unprofiled steps first (a first step is slower: its memory is touched for the first time, and a driver that compiles late compiles then)", numberArg("nonnegative-int"), 1)
    .addOption(numberOption("--seed <n>", "seed of the initialisation and the data", RULES.seed, 0))
    .addOption(optimizerOption("optimizer"))
    .option("--lr <x>", "learning rate", numberArg("positive"), 1e-3)
    .addOption(optOption())
    .option("--top <n>", "layers and kernels to list", numberArg("positive-int"), 10)
    .option("--json", "print the whole profile as one JSON object (progress goes to stderr)")
    .action(async (file: string, opts: SpecOptions & ProfileOptions & { top: number }) => {
      const { model } = checkOrReport(file, opts);
      if (!model) return setExit(1);
      const profile = await profileStep(model, opts, printError);
      print(opts.json ? JSON.stringify(profile, null, 2) : profileText(profile, opts.top));
      if (profile.unavailable) throw new UserError(profile.unavailable);
      setExit(0);
    });
}

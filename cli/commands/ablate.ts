// `unetc ablate spec --grid key=v1,v2 [--grid ...] [--seeds N]`: every combination of the grids
// times the seeds, each a training run, then FID/KID per run and a report (runtime/ablate/run.ts).
import { type Command, Option } from "commander";
import { ABLATE_PRESETS, type AblationOptions } from "../../runtime/ablate/options.js";
import { runAblation } from "../../runtime/ablate/run.js";
import { SAMPLERS, type SamplerKind } from "../../runtime/diffusion/samplers.js";
import { applyPreset } from "../../runtime/train/presets.js";
import { addModelOptions, collect, numberArg, useColor, type SetExit } from "../options.js";
import { addRecipeOptions, type RecipeFlags } from "../recipe-options.js";
import { print, printError } from "../report.js";
import { SignalStop, signalExitCode } from "../signals.js";

interface AblateFlags extends RecipeFlags {
  grid: string[];
  seeds: number;
  seed: number;
  set: string[];
  model?: string;
  out?: string;
  strict?: boolean;
  fidN: number;
  sampler?: SamplerKind;
  steps: number;
  eta: number;
  gridN: number;
  classifier?: string;
}

export function addAblateCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("ablate")
    .description("train every combination of --grid values (times --seeds) and compare them: loss, FID/KID, cost; writes a markdown table, JSON and charts")
    .argument("<spec>", "a .unet spec file")
    .option("--grid <key=v1,v2,...>", "a model parameter and the values to try (repeatable; the runs are the Cartesian product)", collect, [])
    .option("--seeds <n>", "seeds per variant (the seeds are --seed, --seed+1, ...)", numberArg("positive-int"), 1)
    .option("--seed <n>", "the first seed", numberArg("nonnegative-int"), 42);
  addModelOptions(command, "a model parameter fixed for every variant (repeatable)")
    .option("--out <dir>", "the ablation folder (default runs/ablate-<model>)")
    .option("--strict", "stop before any training when a variant does not check (default: report and skip it)")
    .addOption(new Option("--preset <name>", "cpu: the CPU training preset, and FID on 256 samples of 25 steps").choices(["cpu"]))
    .option("--fid-n <n>", "images sampled per run for FID/KID (the course: 2048; 0: no FID/KID)", numberArg("nonnegative-int"), 2048)
    .addOption(new Option("--sampler <name>", "sampler for FID and the grids (default: ddim or euler)").choices([...SAMPLERS]))
    .option("--steps <n>", "sampling steps (the course: 100)", numberArg("positive-int"), 100)
    .option("--eta <x>", "DDIM's eta", numberArg("nonnegative"), 1)
    .option("--grid-n <n>", "images per variant in samples.png", numberArg("positive-int"), 16)
    .option("--classifier <file>", "the FID feature extractor's weights (default: models/metrics/fmnist_classifier.safetensors)");
  addRecipeOptions(command).action(async (spec: string, flags: AblateFlags, cmd: Command) => setExit(await runAblate(spec, flags, cmd)));
}

const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

async function runAblate(spec: string, flags: AblateFlags, cmd: Command): Promise<number> {
  if (flags.preset) applyPreset(flags, ABLATE_PRESETS[flags.preset], (k) => cmd.getOptionValueSource(k) === "cli");
  // Ctrl-C: the current run stops after its step with a checkpoint; the ablation stops there.
  const stop = new SignalStop((s) => `\n${s}: stopping after this step; run the same command again to continue\n`);
  const options: AblationOptions = flags;
  const r = await runAblation({
    spec,
    options,
    color: useColor(flags),
    command: ["unetc ablate", ...process.argv.slice(process.argv.indexOf("ablate") + 1).map(shellWord)].join(" "),
    stop,
    log: { info: print, problem: printError },
  });
  if (stop.signal) {
    print("interrupted: run the same command again to continue (finished runs are kept)");
    return signalExitCode(stop.signal);
  }
  return r.failed ? 1 : 0;
}

// `unetc ablate spec --grid key=v1,v2 [--grid ...] [--seeds N]`: every combination of the grids
// times the seeds, each a training run, then FID/KID per run and a report (runtime/ablate/run.ts).
// --json: the report's rows (as ablation.json has them) and the files written, on stdout.
import { join } from "node:path";
import { type Command, Option } from "commander";
import { ABLATE_PRESETS, ABLATE_RULES, type AblationOptions } from "../../runtime/ablate/options.js";
import type { AblationReportJson } from "../../runtime/ablate/report.js";
import { runAblation, type AblationResult } from "../../runtime/ablate/run.js";
import { SAMPLERS, type SamplerKind } from "../../runtime/diffusion/samplers.js";
import { checkNumbers } from "../../runtime/train/number-rules.js";
import { applyPreset } from "../../runtime/train/presets.js";
import { emaDecay } from "../../runtime/train/recipe.js";
import { jsonPath, jsonPathOrNull, printJson, proseFor } from "../json-output.js";
import { addModelOptions, collect, numberOption, useColor, type SetExit } from "../options.js";
import { addRecipeOptions, type RecipeFlags } from "../recipe-options.js";
import { printError } from "../report.js";
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
  json?: boolean;
}

export function addAblateCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("ablate")
    .description("train every combination of --grid values (times --seeds) and compare them: loss, FID/KID, cost; writes a markdown table, JSON and charts")
    .argument("<spec>", "a .unet spec file")
    .option("--grid <key=v1,v2,...>", "a model parameter and the values to try (repeatable; the runs are the Cartesian product)", collect, [])
    .addOption(numberOption("--seeds <n>", "seeds per variant (the seeds are --seed, --seed+1, ...)", ABLATE_RULES.seeds, 1))
    .addOption(numberOption("--seed <n>", "the first seed", ABLATE_RULES.seed, 42));
  addModelOptions(command, "a model parameter fixed for every variant (repeatable)")
    .option("--out <dir>", "the ablation folder (default runs/ablate-<model>)")
    .option("--strict", "stop before any training when a variant does not check (default: report and skip it)")
    .addOption(new Option("--preset <name>", "cpu: the CPU training preset, and FID on 256 samples of 25 steps").choices(["cpu"]))
    .addOption(numberOption("--fid-n <n>", "images sampled per run for FID/KID (the course: 2048; at least 8; 0: no FID/KID)", ABLATE_RULES.fidN, 2048))
    .addOption(new Option("--sampler <name>", "sampler for FID and the grids (default: ddim or euler)").choices([...SAMPLERS]))
    .addOption(numberOption("--steps <n>", "sampling steps (the course: 100)", ABLATE_RULES.steps, 100))
    .addOption(numberOption("--eta <x>", "DDIM's eta (0 or more)", ABLATE_RULES.eta, 1))
    .addOption(numberOption("--grid-n <n>", "images per variant in samples.png", ABLATE_RULES.gridN, 16))
    .option("--classifier <file>", "the FID feature extractor's weights (default: models/metrics/fmnist_classifier.safetensors)")
    .option("--json", "print one JSON object (a row per variant, as in ablation.json, and the files written) on stdout; progress and prose go to stderr");
  addRecipeOptions(command).action(async (spec: string, flags: AblateFlags, cmd: Command) => setExit(await runAblate(spec, flags, cmd)));
}

const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

/** Every directory in the rows made absolute, as the files are (a variant's `dir` is under the ablation folder). */
function absoluteRows(root: string, variants: AblationReportJson["variants"]): AblationReportJson["variants"] {
  return variants.map((v) => ({ ...v, dir: jsonPath(join(root, v.dir)), runs: v.runs.map((r) => ({ ...r, dir: jsonPath(r.dir) })) }));
}

/** ablate --json's object. */
function ablateJson(r: AblationResult, interrupted: boolean): Record<string, unknown> {
  const runs = r.report.variants.flatMap((v) => v.runs);
  const count = (s: string) => runs.filter((x) => x.status === s).length;
  return {
    command: "ablate",
    ok: r.failed === 0,
    status: interrupted ? "interrupted" : "completed",
    spec: r.report.spec,
    model: r.modelName,
    grid: r.report.grid,
    seeds: r.report.seeds,
    runs: { planned: runs.length, done: count("done"), failed: count("failed"), invalid: count("invalid") },
    seconds: Number(r.seconds.toFixed(3)),
    root: jsonPath(r.root),
    variants: absoluteRows(r.root, r.report.variants),
    files: {
      markdown: jsonPath(r.files.markdown),
      json: jsonPath(r.files.json),
      html: jsonPath(r.files.html),
      lossChart: jsonPathOrNull(r.files.lossChart),
      fidChart: jsonPathOrNull(r.files.fidChart),
      montage: jsonPathOrNull(r.files.montage),
    },
  };
}

async function runAblate(spec: string, flags: AblateFlags, cmd: Command): Promise<number> {
  if (flags.preset) applyPreset(flags, ABLATE_PRESETS[flags.preset], (k) => cmd.getOptionValueSource(k) === "cli");
  // Every value out of range is refused here, before hours of training (a preset's too).
  checkNumbers(flags, ABLATE_RULES);
  emaDecay(flags.ema);
  const say = proseFor(flags.json);
  // Ctrl-C: the current run stops after its step with a checkpoint; the ablation stops there.
  const stop = new SignalStop((s) => `\n${s}: stopping after this step; run the same command again to continue\n`);
  const options: AblationOptions = flags;
  const r = await runAblation({
    spec,
    options,
    color: useColor(flags),
    command: ["unetc ablate", ...process.argv.slice(process.argv.indexOf("ablate") + 1).map(shellWord)].join(" "),
    stop,
    log: { info: say, problem: printError },
  });
  if (flags.json) printJson(ablateJson(r, stop.signal !== undefined));
  if (stop.signal) {
    say("interrupted: run the same command again to continue (finished runs are kept)");
    return signalExitCode(stop.signal);
  }
  return r.failed ? 1 : 0;
}

// `unetc ablate spec --grid key=v1,v2 [--grid ...] [--seeds N]`: the Cartesian product of the
// grids (first axis slowest) times the seeds, each a `unetc train` run in its own folder
// (<out>/<variant>/seed-<s>), then FID/KID per run and a report: ablation.md, ablation.json,
// eval-loss.png (a bar per variant) and samples.png (each variant's samples side by side).
// Every variant is checked before any training; an invalid one is reported and skipped (or stops
// everything with --strict). Run again after an interruption: finished runs and evaluations are
// kept, a run stopped part-way resumes exactly from its checkpoint.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { PNG } from "pngjs";
import { checkSpec } from "../compiler/check/check.js";
import { modelTask, modelTotals, type ModelGraph } from "../compiler/check/model-graph.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { writeFileAtomic } from "../runtime/data/atomic-write.js";
import { SAMPLERS, samplerSchedule, type SamplerKind } from "../runtime/diffusion/samplers.js";
import { gridRaster } from "../runtime/image/grid.js";
import { montage, type MontagePanel } from "../runtime/image/montage.js";
import { writeBarChartPng } from "../runtime/image/bar-chart.js";
import { encodePng, writePng, type Raster } from "../runtime/image/png.js";
import { evaluateRun, MIN_SAMPLES } from "../runtime/metrics/evaluate-run.js";
import { classifierId } from "../runtime/metrics/classifier.js";
import type { DeviceKind } from "../runtime/session/runner.js";
import { checkpointWeights, sampleImages, type SampleRunResult } from "../runtime/sample/sample.js";
import { DataError } from "../runtime/data/types.js";
import { SafetensorsError } from "../runtime/io/safetensors.js";
import { DeviceError } from "../runtime/webgpu/device.js";
import { MemoryLimitError } from "../compiler/passes/memory-plan.js";
import { CHECKPOINT_FILE, CheckpointError, readCheckpoint, type Checkpoint, type TrainConfig } from "../runtime/train/checkpoint.js";
import { fitData, loadTrainData, type TrainData } from "../runtime/train/data.js";
import { METRICS_FILE, train, type TrainReporter } from "../runtime/train/loop.js";
import { MetricsLog, type MetricsRecord } from "../runtime/train/metrics.js";
import { describeDevice } from "../runtime/train/runners.js";
import { buildTrainGraph } from "../compiler/passes/step/train-graph.js";
import { stepMemory } from "../compiler/passes/step-memory.js";
import { checkAxes, expandGrid, parseGridArg, planRuns, seedList, type GridAxis, type PlannedRun, type Variant } from "../runtime/ablate/grid.js";
import { renderMarkdown, reportJson, summarize, type RunMetrics, type RunOutcome } from "../runtime/ablate/report.js";
import { EVAL_FILE, evalRecord, type EvalRecord } from "./eval-command.js";
import { addRecipeOptions, collect, formatSeconds, numberArg, PRESETS, recipeConfig, runCommand, specInfo, useColor, type RecipeFlags, type SetExit } from "./train-command.js";

export const REPORT_MD = "ablation.md";
export const REPORT_JSON = "ablation.json";
export const LOSS_CHART = "eval-loss.png";
export const SAMPLES_MONTAGE = "samples.png";
/** Each run's own small sample grid (the montage's panels). */
export const RUN_GRID = "grid.png";

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

/** `--preset cpu` for ablations: the train preset, and FID on fewer, shorter samples. */
const CPU_ABLATE = { fidN: 256, steps: 25 } as const;

export function addAblateCommand(program: Command, setExit: SetExit): void {
  const command = program
    .command("ablate")
    .description("train every combination of --grid values (times --seeds) and compare them: loss, FID/KID, cost; writes a markdown table, JSON and charts")
    .argument("<spec>", "a .unet spec file")
    .option("--grid <key=v1,v2,...>", "a model parameter and the values to try (repeatable; the runs are the Cartesian product)", collect, [])
    .option("--seeds <n>", "seeds per variant (the seeds are --seed, --seed+1, ...)", numberArg("positive-int"), 1)
    .option("--seed <n>", "the first seed", numberArg("nonnegative-int"), 42)
    .option("--set <key=value>", "a model parameter fixed for every variant (repeatable)", collect, [])
    .option("--model <name>", "the model to use when the file defines several")
    .option("--out <dir>", "the ablation folder (default runs/ablate-<model>)")
    .option("--strict", "stop before any training when a variant does not check (default: report and skip it)")
    .addOption(new Option("--preset <name>", "cpu: the CPU training preset, and FID on 256 samples of 25 steps").choices(["cpu"]))
    .option("--fid-n <n>", "images sampled per run for FID/KID (the course: 2048; 0: no FID/KID)", numberArg("nonnegative-int"), 2048)
    .addOption(new Option("--sampler <name>", "sampler for FID and the grids (default: ddim or euler)").choices([...SAMPLERS]))
    .option("--steps <n>", "sampling steps (the course: 100)", numberArg("positive-int"), 100)
    .option("--eta <x>", "DDIM's eta", numberArg("nonnegative"), 1)
    .option("--grid-n <n>", "images per variant in samples.png", numberArg("positive-int"), 16)
    .option("--classifier <file>", "the FID feature extractor's weights (default: models/metrics/fmnist_classifier.safetensors)");
  addRecipeOptions(command)
    .action((spec: string, flags: AblateFlags, cmd: Command) => runCommand(setExit, () => runAblate(spec, flags, cmd)));
}

interface CheckedVariant {
  readonly variant: Variant;
  readonly model?: ModelGraph;
  readonly specInfo?: ReturnType<typeof specInfo>;
  readonly error?: string;
}

async function runAblate(specPath: string, flags: AblateFlags, cmd: Command): Promise<number> {
  const fromCli = (k: string): boolean => cmd.getOptionValueSource(k) === "cli";
  const print = (line: string) => process.stdout.write(`${line}\n`);
  if (flags.preset) {
    const preset = { ...PRESETS[flags.preset].flags, ...CPU_ABLATE };
    for (const [k, v] of Object.entries(preset)) if (!fromCli(k)) (flags as unknown as Record<string, unknown>)[k] = v;
  }
  if (flags.grid.length === 0) {
    process.stderr.write("error: give at least one --grid key=v1,v2,... (for example --grid attn_chans=0,8)\n");
    return 2;
  }
  const axes: GridAxis[] = flags.grid.map(parseGridArg);
  checkAxes(axes);
  const fixed = flags.set.map((s) => s.slice(0, s.indexOf("=")).trim());
  const clash = axes.find((a) => fixed.includes(a.key));
  if (clash) {
    process.stderr.write(`error: ${clash.key} is both fixed (--set) and varied (--grid); keep one\n`);
    return 2;
  }
  if (flags.fidN > 0 && flags.fidN < MIN_SAMPLES) throw new InvalidArgumentError(`--fid-n must be 0 (no FID/KID) or at least ${MIN_SAMPLES}`);
  const variants = expandGrid(axes);
  const seeds = seedList(flags.seed, flags.seeds);

  // ---- check every variant before any training ----
  const checked: CheckedVariant[] = [];
  for (const v of variants) {
    const sets = [...flags.set, ...v.sets];
    const r = checkSpec(specPath, { set: sets, model: flags.model });
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    if (!r.graph || errors.length) {
      process.stderr.write(`variant ${v.label} does not check:\n${renderDiagnostics(r.diagnostics, { color: useColor(flags) })}\n`);
      checked.push({ variant: v, error: errors.length ? `${errors[0].code}: ${errors[0].message}` : "does not check" });
      continue;
    }
    if (modelTask(r.graph) !== "denoise") {
      process.stderr.write(`error: ${r.graph.name} is a classifier; ablate compares denoisers\n`);
      return 1;
    }
    checked.push({ variant: v, model: r.graph, specInfo: specInfo(specPath, r, r.graph, sets) });
  }
  const invalid = checked.filter((c) => c.error);
  if (invalid.length && flags.strict) {
    process.stderr.write(`error: ${invalid.length} of ${variants.length} variants do not check (--strict); nothing was trained\n`);
    return 1;
  }
  const valid = checked.filter((c) => c.model);
  if (valid.length === 0) {
    process.stderr.write("error: no variant checks; nothing to train\n");
    return 1;
  }

  // Without the classifier no run could be rated: say so before hours of training.
  const classifier = flags.fidN > 0 ? await classifierId(flags.classifier) : undefined;
  const modelName = valid[0].model!.name;
  const root = flags.out ?? join("runs", `ablate-${modelName}`);
  const plans = planRuns(variants, seeds, root);
  const sampler: SamplerKind = flags.sampler ?? (flags.schedule === "cosine" ? "ddim" : "euler");
  if (samplerSchedule(sampler) !== flags.schedule) throw new InvalidArgumentError(`the ${sampler} sampler needs the ${samplerSchedule(sampler)} schedule; the runs use ${flags.schedule}`);

  const configFor = (seed: number): TrainConfig => recipeConfig(flags, seed);

  print(`ablation of ${specPath} (${modelName}): ${variants.length} variants x ${seeds.length} seeds = ${plans.length} runs in ${root}${invalid.length ? ` (${invalid.length} variants invalid, skipped)` : ""}`);
  print(await describeDevice(flags.device));
  if (flags.data === "fashion-mnist") print("loading Fashion-MNIST ...");
  const data = await loadTrainData({ data: flags.data, subset: flags.subset, evalSubset: flags.evalSubset, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  for (const c of valid) fitData(c.model!, data, flags.schedule);

  // Ctrl-C: the current run stops after its step with a checkpoint; the ablation stops there.
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) process.exit(s === "SIGINT" ? 130 : 143);
    signal = s;
    process.stderr.write(`\n${s}: stopping after this step; run the same command again to continue\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const ctx: RunContext = { data, flags, sampler, classifier, memory: new Map(), shouldStop: () => signal !== undefined, print };
  const outcomes = new Map<string, RunOutcome[]>();
  const grids = new Map<string, Raster>();
  const started = performance.now();
  try {
    for (const [k, plan] of plans.entries()) {
      const c = checked.find((x) => x.variant.id === plan.variant.id)!;
      const list = outcomes.get(plan.variant.id) ?? [];
      outcomes.set(plan.variant.id, list);
      if (c.error) {
        list.push({ status: "invalid", seed: plan.seed, dir: plan.dir, error: c.error });
        continue;
      }
      print(`\n[${k + 1}/${plans.length}] ${plan.variant.label} seed ${plan.seed} -> ${plan.dir}`);
      const outcome = await runOne(plan, c, configFor(plan.seed), ctx);
      list.push(outcome.outcome);
      if (outcome.grid && !grids.has(plan.variant.id)) grids.set(plan.variant.id, outcome.grid);
      if (outcome.outcome.status === "failed") process.stderr.write(`run failed: ${outcome.outcome.error}\n`);
      if (signal) break;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  // ---- the report (also after an interruption: it shows what is finished) ----
  const summaries = summarize(variants, outcomes);
  const command = ["unetc ablate", ...process.argv.slice(process.argv.indexOf("ablate") + 1).map(shellWord)].join(" ");
  const fidText = flags.fidN > 0 ? `FID/KID: ${flags.fidN} samples per run (${sampler}, ${flags.steps} steps) vs the 10,000 Fashion-MNIST test images, features of models/metrics/fmnist_classifier` : "FID/KID: not computed (--fid-n 0)";
  const notes = [
    `${data.train.count} training images, ${data.test.count} held out; ${flags.epochs} epochs of batch ${flags.batch}, ${flags.schedule} noise, OneCycle max lr ${flags.lr}, device ${flags.device}.`,
    `Step ms: median wall time of a training step. Peak MiB: the planned device memory of the training step (persistent state + transient buffers).`,
    fidText + ".",
  ];
  await writeFileAtomic(join(root, REPORT_MD), Buffer.from(renderMarkdown(summaries, { title: `Ablation: ${modelName}`, command, notes })));
  const json = reportJson(summaries, { command, spec: specPath, grid: axes, seeds, extra: { device: flags.device, epochs: flags.epochs, batch: flags.batch, fidN: flags.fidN, sampler, steps: flags.steps } });
  await writeFileAtomic(join(root, REPORT_JSON), Buffer.from(JSON.stringify(json, null, 2) + "\n"));
  const bars = summaries.flatMap((s) => {
    const st = s.stats.evalLoss;
    if (!st) return [];
    const points = s.runs.flatMap((r) => (r.status === "done" && r.metrics.evalLoss !== null ? [r.metrics.evalLoss] : []));
    return [{ label: s.variant.label, mean: st.mean, spread: st.spread, points }];
  });
  if (bars.length) await writeBarChartPng(join(root, LOSS_CHART), { title: `eval loss per variant (${seeds.length} seed${seeds.length > 1 ? "s" : ""})`, yLabel: "eval loss", bars });
  const panels: MontagePanel[] = variants.flatMap((v) => {
    const raster = grids.get(v.id);
    return raster ? [{ label: v.label, raster: upscale(raster, Math.max(1, Math.ceil(160 / raster.width))) }] : [];
  });
  if (panels.length) await writePng(join(root, SAMPLES_MONTAGE), montage(panels, { columns: Math.min(panels.length, 4) }));

  print(`\n${renderMarkdown(summaries, { title: `Ablation: ${modelName}`, command, notes: [] })}`);
  print(`wrote ${join(root, REPORT_MD)}, ${REPORT_JSON}${bars.length ? `, ${LOSS_CHART}` : ""}${panels.length ? `, ${SAMPLES_MONTAGE}` : ""} in ${formatSeconds((performance.now() - started) / 1000)}`);
  if (signal) {
    print("interrupted: run the same command again to continue (finished runs are kept)");
    return signal === "SIGTERM" ? 143 : 130;
  }
  const failed = [...outcomes.values()].flat().filter((o) => o.status === "failed").length;
  return failed ? 1 : 0;
}

const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

/** The trajectory options a finished or partial run must share with this ablation to be reused. */
function sameConfig(a: TrainConfig, b: TrainConfig): boolean {
  const keys: (keyof TrainConfig)[] = ["data", "subset", "evalSubset", "epochs", "batch", "lr", "schedule", "optimizer", "eps", "beta2", "weightDecay", "ema", "seed"];
  return keys.every((k) => a[k] === b[k]);
}

interface RunResultAndGrid {
  readonly outcome: RunOutcome;
  readonly grid?: Raster;
}

/** What every run of one ablation shares. */
interface RunContext {
  readonly data: TrainData;
  readonly flags: AblateFlags;
  readonly sampler: SamplerKind;
  /** The FID classifier's id (undefined without FID). */
  readonly classifier: string | undefined;
  /** Planned training-step memory per variant id: the same for every seed. */
  readonly memory: Map<string, number>;
  readonly shouldStop: () => boolean;
  readonly print: (line: string) => void;
}

async function runOne(plan: PlannedRun, c: CheckedVariant, config: TrainConfig, ctx: RunContext): Promise<RunResultAndGrid> {
  const { data, flags, sampler, shouldStop, print } = ctx;
  const model = c.model!;
  const fail = (error: string): RunResultAndGrid => ({ outcome: { status: "failed", seed: plan.seed, dir: plan.dir, error } });
  try {
    // ---- train, resume, or keep ----
    let ckpt: Checkpoint | undefined = existsSync(join(plan.dir, CHECKPOINT_FILE)) ? await readCheckpoint(plan.dir) : undefined;
    if (ckpt) {
      const same = sameConfig(ckpt.meta.config, config) && ckpt.meta.spec.sourcesSha256 === c.specInfo!.sourcesSha256 && JSON.stringify(ckpt.meta.spec.overrides) === JSON.stringify(c.specInfo!.overrides);
      if (!same) return fail(`${plan.dir} holds a run with other options or another spec; move it away or choose another --out (it was left as it is)`);
    }
    if (!ckpt || ckpt.meta.position.epoch < config.epochs) {
      print(ckpt ? `resuming at step ${ckpt.meta.position.step}` : "training");
      const r = await train({ model, spec: c.specInfo!, config, data, device: flags.device, out: plan.dir, logEvery: flags.logEvery, resume: ckpt, reporter: lineReporter(print), shouldStop, extra: { ablation: plan.variant.id } });
      if (r.status === "interrupted") return fail("interrupted");
      ckpt = await readCheckpoint(plan.dir);
    } else print("trained already");

    // ---- metrics of the run ----
    const records = MetricsLog.read(join(plan.dir, METRICS_FILE));
    const epochs = records.filter((r): r is Extract<MetricsRecord, { kind: "epoch" }> => r.kind === "epoch");
    const last = epochs[epochs.length - 1];
    const rates = records.flatMap((r) => (r.kind === "train" ? [r.steps_per_s] : [])).sort((a, b) => a - b);
    const median = rates.length ? rates[Math.floor(rates.length / 2)] : NaN;
    const totals = modelTotals(model);
    let memory = ctx.memory.get(c.variant.id);
    if (memory === undefined) {
      memory = stepMemory(buildTrainGraph(model, { batch: config.batch, optimizer: config.optimizer, ema: config.ema !== undefined })).totalBytes;
      ctx.memory.set(c.variant.id, memory);
    }
    const metrics: RunMetrics = {
      params: totals.parameters,
      flops: totals.flops,
      stepSeconds: Number.isFinite(median) && median > 0 ? 1 / median : null,
      peakMemoryBytes: memory,
      trainLoss: last?.train_loss ?? null,
      evalLoss: last?.eval_loss ?? null,
      fid: null,
      kid: null,
    };

    // ---- FID/KID and the sample grid ----
    let grid: Raster | undefined;
    const gridPath = join(plan.dir, RUN_GRID);
    if (flags.fidN > 0) {
      const evalPath = join(plan.dir, EVAL_FILE);
      const want = { sampler, steps: flags.steps, eta: flags.eta, seed: 0 };
      let rec = readEval(evalPath);
      const fresh = rec && rec.classifier.id === ctx.classifier && rec.n === flags.fidN && rec.checkpointStep === ckpt.meta.position.step && rec.sampler.name === sampler && rec.sampler.steps === flags.steps && rec.sampler.eta === flags.eta;
      if (!fresh || !existsSync(gridPath)) {
        print(`sampling ${flags.fidN} images for FID/KID (${sampler}, ${flags.steps} steps)`);
        const ev = await evaluateRun(model, ckpt, { n: flags.fidN, ...want, device: flags.device, classifier: flags.classifier, onInfo: print });
        rec = evalRecord(ev, ckpt, { ...want, device: flags.device });
        await writeFileAtomic(evalPath, Buffer.from(JSON.stringify(rec, null, 2) + "\n"));
        grid = await writeRunGrid(gridPath, ev.samples, flags.gridN);
      }
      metrics.fid = rec!.fid;
      metrics.kid = rec!.kid;
      print(`FID ${rec!.fid.toFixed(2)}, KID ${rec!.kid.toFixed(4)}`);
    } else if (!existsSync(gridPath)) {
      const { weights } = checkpointWeights(model, ckpt);
      const samples = await sampleImages(model, weights, { sampler, steps: flags.steps, eta: flags.eta, n: flags.gridN, spreadClasses: true, seed: 0, device: flags.device, schedule: config.schedule });
      grid = await writeRunGrid(gridPath, samples, flags.gridN);
    }
    grid ??= readPng(gridPath);
    return { outcome: { status: "done", seed: plan.seed, dir: plan.dir, metrics }, grid };
  } catch (err) {
    // Errors of the run itself (data, checkpoint, device) fail this run; anything else is a bug.
    const own = err instanceof CheckpointError || err instanceof DataError || err instanceof SafetensorsError || err instanceof DeviceError || err instanceof MemoryLimitError;
    if (own) return fail(err.message);
    throw err;
  }
}

async function writeRunGrid(path: string, s: SampleRunResult, n: number): Promise<Raster> {
  const [, C, H, W] = s.shape;
  const count = Math.min(n, s.count);
  const raster = gridRaster(s.images.subarray(0, count * C * H * W), { count, channels: C as 1 | 3, height: H, width: W, cols: Math.ceil(Math.sqrt(count)), range: [-1, 1] });
  await writeFileAtomic(path, encodePng(raster));
  return raster;
}

/** Nearest-neighbour enlargement by an integer factor (small sample grids next to their labels). */
function upscale(r: Raster, k: number): Raster {
  if (k === 1) return r;
  const width = r.width * k;
  const height = r.height * k;
  const data = new Uint8Array(width * height * r.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = ((Math.floor(y / k) * r.width + Math.floor(x / k)) * r.channels);
      data.set(r.data.subarray(src, src + r.channels), (y * width + x) * r.channels);
    }
  }
  return { width, height, channels: r.channels, data };
}

function readPng(path: string): Raster | undefined {
  if (!existsSync(path)) return undefined;
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
}

function readEval(path: string): EvalRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as EvalRecord;
  } catch {
    return undefined; // a damaged eval.json is recomputed
  }
}

/** One line per epoch; the ablation's own lines say which run it is. */
function lineReporter(print: (line: string) => void): TrainReporter {
  return {
    info: (line) => print(`  ${line}`),
    epochStart: () => {},
    progress: () => {},
    epochEnd: (e) => print(`  epoch ${e.epoch}/${e.epochs}: train loss ${e.trainLoss.toFixed(4)}${e.evalLoss === null ? "" : `, eval loss ${e.evalLoss.toFixed(4)}`} (${formatSeconds(e.seconds)}, ${e.stepsPerSecond.toFixed(2)} steps/s)`),
  };
}

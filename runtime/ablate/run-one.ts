// One run of an ablation: train it (or resume it, or keep it when finished), read its metrics,
// then FID/KID and its sample grid, reusing eval.json and grid.png when they are current.
// Errors of the run itself (data, checkpoint, device) fail this run only; a bug still throws.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { modelTotals, type ModelGraph } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { writeFileAtomic } from "../data/atomic-write.js";
import type { SamplerKind } from "../diffusion/samplers.js";
import { gridRaster } from "../image/grid.js";
import { encodePng, readPng, type Raster } from "../image/png.js";
import { evalRecord, EVAL_FILE, readEvalRecord, writeEvalRecord } from "../metrics/eval-record.js";
import { evaluateRun } from "../metrics/evaluate-run.js";
import { weightsFromCheckpoint } from "../sample/model-weights.js";
import { checkpointWeights, sampleImages, type SampleRunResult } from "../sample/sample.js";
import { CHECKPOINT_FILE, readCheckpoint, type Checkpoint, type SpecInfo, type TrainConfig } from "../train/checkpoint.js";
import type { TrainData } from "../train/data.js";
import { formatSeconds } from "../train/duration.js";
import { METRICS_FILE, train, type TrainReporter } from "../train/loop.js";
import { MetricsLog, type MetricsRecord } from "../train/metrics.js";
import type { PlannedRun } from "./grid.js";
import { RUN_GRID, type AblationOptions } from "./options.js";
import type { RunMetrics, RunOutcome } from "./report.js";
import { plannedStepBytes } from "./step-memory.js";

/** What every run of one ablation shares. */
export interface RunContext {
  readonly data: TrainData;
  readonly options: AblationOptions;
  readonly sampler: SamplerKind;
  /** The FID classifier's id (undefined without FID). */
  readonly classifier: string | undefined;
  /** Planned training-step memory per variant id: the same for every seed. */
  readonly memory: Map<string, number>;
  readonly shouldStop: () => boolean;
  readonly print: (line: string) => void;
}

export interface RunResult {
  readonly outcome: RunOutcome;
  /** The run's sample grid, for the montage. */
  readonly grid?: Raster;
}

/** The trajectory options a finished or partial run must share with this ablation to be reused. */
function sameConfig(a: TrainConfig, b: TrainConfig): boolean {
  const keys: (keyof TrainConfig)[] = ["data", "subset", "evalSubset", "epochs", "batch", "lr", "schedule", "optimizer", "eps", "beta2", "weightDecay", "ema", "seed"];
  return keys.every((k) => a[k] === b[k]);
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

async function writeRunGrid(path: string, s: SampleRunResult, n: number): Promise<Raster> {
  const [, C, H, W] = s.shape;
  const count = Math.min(n, s.count);
  const raster = gridRaster(s.images.subarray(0, count * C * H * W), { count, channels: C as 1 | 3, height: H, width: W, cols: Math.ceil(Math.sqrt(count)), range: [-1, 1] });
  await writeFileAtomic(path, encodePng(raster));
  return raster;
}

/** The run's metrics from its metrics.jsonl and the model; FID/KID are filled in later. */
function runMetrics(dir: string, model: ModelGraph, memory: number): RunMetrics {
  const records = MetricsLog.read(join(dir, METRICS_FILE));
  const epochs = records.filter((r): r is Extract<MetricsRecord, { kind: "epoch" }> => r.kind === "epoch");
  const last = epochs[epochs.length - 1];
  const rates = records.flatMap((r) => (r.kind === "train" ? [r.steps_per_s] : [])).sort((a, b) => a - b);
  const median = rates.length ? rates[Math.floor(rates.length / 2)] : NaN;
  const totals = modelTotals(model);
  return {
    params: totals.parameters,
    flops: totals.flops,
    stepSeconds: Number.isFinite(median) && median > 0 ? 1 / median : null,
    peakMemoryBytes: memory,
    trainLoss: last?.train_loss ?? null,
    evalLoss: last?.eval_loss ?? null,
    fid: null,
    kid: null,
  };
}

/** Trains, resumes or keeps the run: its checkpoint, or why it cannot continue. */
async function trainedCheckpoint(plan: PlannedRun, model: ModelGraph, spec: SpecInfo, config: TrainConfig, ctx: RunContext): Promise<Checkpoint | string> {
  let ckpt: Checkpoint | undefined = existsSync(join(plan.dir, CHECKPOINT_FILE)) ? await readCheckpoint(plan.dir) : undefined;
  if (ckpt) {
    const same = sameConfig(ckpt.meta.config, config) && ckpt.meta.spec.sourcesSha256 === spec.sourcesSha256 && JSON.stringify(ckpt.meta.spec.overrides) === JSON.stringify(spec.overrides);
    if (!same) return `${plan.dir} holds a run with other options or another spec; move it away or choose another --out (it was left as it is)`;
  }
  if (!ckpt || ckpt.meta.position.epoch < config.epochs) {
    ctx.print(ckpt ? `resuming at step ${ckpt.meta.position.step}` : "training");
    const o = ctx.options;
    const r = await train({ model, spec, config, data: ctx.data, device: o.device, out: plan.dir, logEvery: o.logEvery, resume: ckpt, reporter: lineReporter(ctx.print), shouldStop: ctx.shouldStop, extra: { ablation: plan.variant.id } });
    if (r.status === "interrupted") return "interrupted";
    return readCheckpoint(plan.dir);
  }
  ctx.print("trained already");
  return ckpt;
}

export async function runOne(plan: PlannedRun, model: ModelGraph, spec: SpecInfo, config: TrainConfig, ctx: RunContext): Promise<RunResult> {
  const { options: o, sampler, print } = ctx;
  const fail = (error: string): RunResult => ({ outcome: { status: "failed", seed: plan.seed, dir: plan.dir, error } });
  try {
    const ckpt = await trainedCheckpoint(plan, model, spec, config, ctx);
    if (typeof ckpt === "string") return fail(ckpt);

    let memory = ctx.memory.get(plan.variant.id);
    if (memory === undefined) {
      memory = plannedStepBytes(model, config);
      ctx.memory.set(plan.variant.id, memory);
    }
    const metrics = runMetrics(plan.dir, model, memory);

    // ---- FID/KID and the sample grid ----
    let grid: Raster | undefined;
    const gridPath = join(plan.dir, RUN_GRID);
    if (o.fidN > 0) {
      const evalPath = join(plan.dir, EVAL_FILE);
      const want = { sampler, steps: o.steps, eta: o.eta, seed: 0 };
      let rec = readEvalRecord(evalPath);
      const fresh = rec && rec.classifier.id === ctx.classifier && rec.n === o.fidN && rec.checkpointStep === ckpt.meta.position.step && rec.sampler.name === sampler && rec.sampler.steps === o.steps && rec.sampler.eta === o.eta;
      if (!rec || !fresh || !existsSync(gridPath)) {
        print(`sampling ${o.fidN} images for FID/KID (${sampler}, ${o.steps} steps)`);
        const weights = weightsFromCheckpoint(model, ckpt);
        const ev = await evaluateRun(model, weights, { n: o.fidN, ...want, device: o.device, classifier: o.classifier, onInfo: print });
        rec = evalRecord(ev, weights, { ...want, device: o.device });
        await writeEvalRecord(evalPath, rec);
        grid = await writeRunGrid(gridPath, ev.samples, o.gridN);
      }
      metrics.fid = rec.fid;
      metrics.kid = rec.kid;
      print(`FID ${rec.fid.toFixed(2)}, KID ${rec.kid.toFixed(4)}`);
    } else if (!existsSync(gridPath)) {
      const { weights } = checkpointWeights(model, ckpt);
      const samples = await sampleImages(model, weights, { sampler, steps: o.steps, eta: o.eta, n: o.gridN, spreadClasses: true, seed: 0, device: o.device, schedule: config.schedule });
      grid = await writeRunGrid(gridPath, samples, o.gridN);
    }
    grid ??= readPng(gridPath);
    return { outcome: { status: "done", seed: plan.seed, dir: plan.dir, metrics }, grid };
  } catch (err) {
    if (err instanceof UserError) return fail(err.message);
    throw err;
  }
}

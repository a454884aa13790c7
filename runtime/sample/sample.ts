// `unetc sample`: images from a trained model. The weights come from a training checkpoint (its
// EMA weights when it has them); the sampler runs over a Denoiser at a fixed compiled batch; the
// result is a labeled PNG grid: one row per class (n images each) for a class-conditional model
// when no class is asked for, otherwise a square-ish grid of n; optionally a denoising trajectory.
import { basename } from "node:path";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { sample, samplerSchedule, type SamplerKind } from "../diffusion/samplers.js";
import type { ScheduleKind } from "../diffusion/schedules.js";
import { writeLabeledGridPng, type LabeledGridLayout } from "../image/labeled-grid.js";
import type { DeviceKind } from "../session/runner.js";
import { CheckpointError, verifyTensors, type Checkpoint } from "../train/checkpoint.js";
import { stateDictOf, stateDictTensors } from "../io/state-dict.js";
import { emaTargets } from "../../compiler/compile.js";
import { emaName, isAdamState, isEmaState } from "../../compiler/ir/step-contract.js";
import { createDenoiser } from "./denoiser.js";
import { recordTrajectory, type Trajectory, type TrajectoryRequest } from "./trajectory.js";

/** The model's weights from a checkpoint: the EMA average where it has one (unless `ema` is false). */
export function checkpointWeights(model: ModelGraph, ckpt: Checkpoint, ema = true): { weights: Map<string, Tensor>; ema: boolean } {
  const modelOnly = new Map([...ckpt.tensors].filter(([name]) => !isAdamState(name) && !isEmaState(name)));
  verifyTensors(modelOnly, stateDictOf(model), `checkpoint ${ckpt.path}`);
  const targets = emaTargets(model);
  const hasEma = targets.length > 0 && targets.every((n) => ckpt.tensors.has(emaName(n)));
  const useEma = ema && hasEma;
  if (useEma) {
    const averaged = new Map(targets.map((n) => [emaName(n), { shape: model.parameters.find((p) => p.name === n)!.shape, dtype: "f32" as const }]));
    verifyTensors(new Map([...ckpt.tensors].filter(([name]) => isEmaState(name))), averaged, `checkpoint ${ckpt.path} (EMA weights)`);
  }
  const chosen = new Map(model.parameters.map((p) => [p.name, (useEma ? ckpt.tensors.get(emaName(p.name)) : undefined) ?? ckpt.tensors.get(p.name)!]));
  return { weights: stateDictTensors(model, chosen), ema: useEma };
}

const normalise = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** A class given by index or name (case and punctuation ignored; a unique prefix is enough). */
export function resolveClass(given: string, classNames: readonly string[]): number {
  const list = classNames.map((n, i) => `${i} ${n}`).join(", ");
  if (/^\d+$/.test(given.trim())) {
    const i = Number(given);
    if (i < classNames.length) return i;
    throw new CheckpointError(`class ${i} is out of range: the model has ${classNames.length} classes (${list})`);
  }
  const key = normalise(given);
  const exact = classNames.findIndex((n) => normalise(n) === key);
  if (exact >= 0) return exact;
  const prefix = classNames.map((n, i) => [normalise(n), i] as const).filter(([n]) => key && n.startsWith(key));
  if (prefix.length === 1) return prefix[0][1];
  throw new CheckpointError(
    prefix.length > 1
      ? `class "${given}" is ambiguous: it could be ${prefix.map(([, i]) => classNames[i]).join(" or ")}`
      : `no class named "${given}"; the classes are ${list}`,
  );
}

export interface SampleRunOptions {
  readonly sampler: SamplerKind;
  readonly steps: number;
  readonly eta?: number;
  /** Images in all (unconditional, or one class); for a conditional model without `classIndex` (and without `spreadClasses`), images per class. */
  readonly n: number;
  readonly classIndex?: number;
  /** A conditional model: `n` images with the classes taken in turn (0, 1, ..., K-1, 0, ...), as FID wants. */
  readonly spreadClasses?: boolean;
  readonly seed: number;
  readonly device: DeviceKind;
  /** The most images per model run (default 64); the compiled batch splits the images evenly. */
  readonly batch?: number;
  readonly schedule: ScheduleKind;
  readonly onStep?: (i: number, total: number) => void;
  /** Also record x_t of these images at a few steps (see trajectory.ts). */
  readonly trajectory?: TrajectoryRequest;
}

export interface SampleRunResult {
  /** [count, C, H, W] in [-1, 1]. */
  readonly images: Float32Array;
  readonly count: number;
  readonly cols: number;
  readonly shape: readonly number[];
  /** Labels per image (conditional models). */
  readonly labels?: Int32Array;
  /** Images per class when the grid is one row per class. */
  readonly perClass?: number;
  readonly evaluations: number;
  readonly batch: number;
  readonly trajectory?: Trajectory;
}

export async function sampleImages(model: ModelGraph, weights: ReadonlyMap<string, Tensor>, o: SampleRunOptions): Promise<SampleRunResult> {
  const needs = samplerSchedule(o.sampler);
  if (needs !== o.schedule) {
    throw new CheckpointError(
      `the ${o.sampler} sampler needs a model trained with the ${needs} schedule; this one was trained with ${o.schedule} (use ${o.schedule === "cosine" ? "ddim or ddpm" : "euler, euler_ancestral, heun or lms"})`,
    );
  }
  const img = model.inputs.find((i) => i.kind === "image")!;
  const label = model.inputs.find((i) => i.kind === "label");
  if (o.classIndex !== undefined && !label) throw new CheckpointError(`model ${model.name} is not class-conditional, so it takes no --class`);
  let count: number;
  let cols: number;
  let labels: Int32Array | undefined;
  if (label && o.spreadClasses && o.classIndex === undefined) {
    const classes = label.classes ?? 1;
    count = o.n;
    cols = Math.ceil(Math.sqrt(count));
    labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  } else if (label && o.classIndex === undefined) {
    const classes = label.classes ?? 1;
    const per = o.n;
    count = classes * per;
    cols = per;
    labels = Int32Array.from({ length: count }, (_, i) => Math.floor(i / per));
  } else {
    count = o.n;
    cols = Math.ceil(Math.sqrt(count));
    if (label) labels = new Int32Array(count).fill(o.classIndex!);
  }
  // At most 64 (or --batch) per run, spread evenly: 80 images run as 2 x 40, not 64 + 16 padded to 64.
  const cap = Math.max(1, Math.min(o.batch ?? 64, count));
  const batch = Math.ceil(count / Math.ceil(count / cap));
  const den = await createDenoiser(model, weights, { device: o.device, batch });
  try {
    const shape = [count, ...img.shape];
    const perImage = img.shape.reduce((a, b) => a * b, 1);
    const rec = o.trajectory ? recordTrajectory(den.denoise, { sampler: o.sampler, steps: o.steps, perImage, request: o.trajectory }) : undefined;
    const onStep = (i: number, total: number) => {
      rec?.onStep(i);
      o.onStep?.(i, total);
    };
    const r = await sample(rec?.denoise ?? den.denoise, { sampler: o.sampler, shape, steps: o.steps, seed: o.seed, eta: o.eta, classes: labels, onStep });
    const perClass = label && !o.spreadClasses && o.classIndex === undefined ? o.n : undefined;
    return { images: r.x0, count, cols, shape, labels, perClass, evaluations: den.runs(), batch, ...(rec ? { trajectory: rec.finish(r.x0) } : {}) };
  } finally {
    den.destroy();
  }
}

export interface SampleFigureOptions {
  /** Class names by index: each row whose images share one class is labeled with its name. */
  readonly classNames?: readonly string[];
  /** Lines above the grid (what sampleCaption makes). */
  readonly caption?: readonly string[];
}

function imageShape(r: { readonly shape: readonly number[] }): { channels: 1 | 3; height: number; width: number } {
  const [, C, H, W] = r.shape;
  if (C !== 1 && C !== 3) throw new CheckpointError(`cannot write ${C}-channel images as PNG (1 or 3 channels)`);
  return { channels: C, height: H, width: W };
}

/** The class name of each row whose images all have one class; none when any row is mixed. */
export function rowClassNames(labels: Int32Array | undefined, count: number, cols: number, classNames: readonly string[] | undefined): string[] | undefined {
  if (!labels || !classNames?.length) return undefined;
  const names: string[] = [];
  for (let start = 0; start < count; start += cols) {
    const row = labels.subarray(start, Math.min(start + cols, count));
    if (row.some((c) => c !== row[0])) return undefined;
    names.push(classNames[row[0]] ?? `class ${row[0]}`);
  }
  return names;
}

/** The sample grid as a PNG: images enlarged to at least 64 px, class names by the rows, the caption above. */
export async function writeSampleGrid(path: string, r: SampleRunResult, o: SampleFigureOptions = {}): Promise<LabeledGridLayout> {
  const rowLabels = rowClassNames(r.labels, r.count, r.cols, o.classNames);
  return writeLabeledGridPng(path, r.images, { count: r.count, ...imageShape(r), cols: r.cols, range: [-1, 1], rowLabels, caption: o.caption });
}

const levelText = (t: Trajectory, level: number): string => (t.karras ? `σ=${Number(level.toPrecision(level >= 10 ? 3 : 2))}` : `t=${level.toFixed(2)}`);

/** The trajectory strip: one row per followed image, columns x_t at the recorded steps, then the result. */
export async function writeTrajectoryStrip(path: string, r: SampleRunResult, o: SampleFigureOptions & { readonly images: readonly number[] }): Promise<LabeledGridLayout> {
  const t = r.trajectory;
  if (!t) throw new Error("internal: no trajectory was recorded");
  const labels = r.labels ? Int32Array.from(o.images, (i) => r.labels![i]) : undefined;
  const rowLabels = rowClassNames(labels, t.rows, 1, o.classNames);
  const colLabels = [...t.levels.map((level) => levelText(t, level)), "result"];
  const columns = `columns: x_t at steps ${t.steps.join(", ")} of ${t.totalSteps}, then the result`;
  return writeLabeledGridPng(path, t.frames, { count: t.rows * t.cols, ...imageShape(r), cols: t.cols, range: [-1, 1], rowLabels, colLabels, caption: [...(o.caption ?? []), columns] });
}

export interface CaptionInfo {
  readonly model: string;
  /** The checkpoint's step; null for weights from a plain state_dict (named by `from`). */
  readonly step: number | null;
  readonly from?: string;
  readonly ema: boolean;
  readonly sampler: SamplerKind;
  readonly eta?: number;
  readonly steps: number;
  readonly seed: number;
  /** What was drawn, e.g. "8 images per class" or "64 images". */
  readonly what: string;
}

/** The caption of a sample figure: where the images came from and how, in two lines. */
export function sampleCaption(c: CaptionInfo): string[] {
  const eta = c.sampler === "ddim" && c.eta !== undefined ? ` (eta ${c.eta})` : "";
  const origin = c.step === null ? `, weights ${basename(c.from ?? "?")}` : ` at step ${c.step}, ${c.ema ? "EMA" : "raw"} weights`;
  return [`${c.model}${origin}`, `${c.sampler}${eta}, ${c.steps} steps, seed ${c.seed}; ${c.what}`];
}

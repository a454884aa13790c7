// A small finished ablation (two variants over three seeds, a third invalid) and its report files,
// written by the real writeReport: shared by the report-file test and the browser test.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expandGrid, parseGridArg } from "../../runtime/ablate/grid.js";
import type { AblationOptions } from "../../runtime/ablate/options.js";
import type { AblationPlan } from "../../runtime/ablate/plan.js";
import { summarize, type RunMetrics, type RunOutcome } from "../../runtime/ablate/report.js";
import { writeReport, type WrittenReport } from "../../runtime/ablate/write-report.js";
import { gridRaster } from "../../runtime/image/grid.js";
import type { Raster } from "../../runtime/image/png.js";

const metrics = (evalLoss: number, fid: number): RunMetrics => ({ params: 1000, flops: 2e6, stepSeconds: 0.1, peakMemoryBytes: 2 ** 20, trainLoss: evalLoss + 0.01, evalLoss, fid, kid: 0.001 });

export const axes = [parseGridArg("attn_chans=0,8,3")];
export const variants = expandGrid(axes);

export function outcomes(): Map<string, RunOutcome[]> {
  const done = (dir: string, seed: number, loss: number, fid: number): RunOutcome => ({ status: "done", seed, dir: `${dir}/seed-${seed}`, metrics: metrics(loss, fid) });
  return new Map([
    [variants[0].id, [done("a0", 0, 0.031, 10), done("a0", 1, 0.033, 12), done("a0", 2, 0.032, 11)]],
    [variants[1].id, [done("a8", 0, 0.029, 9), done("a8", 1, 0.03, 9.5), done("a8", 2, 0.028, 8.5)]],
    [variants[2].id, [0, 1, 2].map((seed) => ({ status: "invalid" as const, seed, dir: `a3/seed-${seed}`, error: "error[E0301]: 3 does not divide 32" }))],
  ]);
}

/** A 2x2 grid of 8x8 gray images (a gradient, different per variant). */
export function variantGrid(k: number): Raster {
  const images = Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i / (5 + k)));
  return gridRaster(images, { count: 4, channels: 1, height: 8, width: 8, cols: 2 });
}

export const COMMAND = "unetc ablate models/lesson/emb_unet.unet --grid attn_chans=0,8,3 --seeds 3";

export async function writeFixtureReport(root = mkdtempSync(join(tmpdir(), "unetc-report-"))): Promise<{ root: string; written: WrittenReport }> {
  const plan: AblationPlan = {
    spec: "models/lesson/emb_unet.unet",
    axes,
    variants,
    seeds: [0, 1, 2],
    checked: new Map(),
    valid: [],
    invalidCount: 1,
    modelName: "emb_unet",
    root,
    runs: [],
    sampler: "ddim",
    classifier: "fmnist_classifier",
  };
  const options: AblationOptions = {
    data: "fashion-mnist",
    epochs: 2,
    batch: 32,
    lr: 0.01,
    schedule: "cosine",
    optimizer: "adam",
    eps: 1e-5,
    beta2: 0.99,
    weightDecay: 0,
    grid: ["attn_chans=0,8,3"],
    seeds: 3,
    seed: 0,
    set: [],
    fidN: 256,
    steps: 25,
    eta: 1,
    gridN: 4,
    device: "reference",
    logEvery: 10,
  };
  const grids = new Map([
    [variants[0].id, variantGrid(0)],
    [variants[1].id, variantGrid(1)],
  ]);
  const written = await writeReport({ plan, options, summaries: summarize(variants, outcomes()), grids, command: COMMAND, trainCount: 4000, testCount: 200 });
  return { root, written };
}

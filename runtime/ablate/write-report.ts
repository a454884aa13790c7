// The ablation's files: ablation.md, ablation.json, eval-loss.png (a bar per variant) and
// samples.png (each variant's sample grid side by side). Written after every ablation, also an
// interrupted one: the report then shows what is finished.
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic-write.js";
import { writeBarChartPng } from "../image/bar-chart.js";
import { montage, type MontagePanel } from "../image/montage.js";
import { writePng, type Raster } from "../image/png.js";
import { upscale } from "../image/upscale.js";
import type { AblationPlan } from "./plan.js";
import { LOSS_CHART, REPORT_JSON, REPORT_MD, SAMPLES_MONTAGE, type AblationOptions } from "./options.js";
import { renderMarkdown, reportJson, type VariantSummary } from "./report.js";

export interface ReportInputs {
  readonly plan: AblationPlan;
  readonly options: AblationOptions;
  readonly summaries: readonly VariantSummary[];
  /** The first sample grid of each variant, by variant id. */
  readonly grids: ReadonlyMap<string, Raster>;
  /** The command line, as the report shows it. */
  readonly command: string;
  readonly trainCount: number;
  readonly testCount: number;
}

/** The files written besides the markdown and JSON. */
export interface WrittenReport {
  readonly lossChart: boolean;
  readonly montage: boolean;
}

export async function writeReport(r: ReportInputs): Promise<WrittenReport> {
  const { plan, options: o, summaries, command } = r;
  const root = plan.root;
  const fidText = o.fidN > 0 ? `FID/KID: ${o.fidN} samples per run (${plan.sampler}, ${o.steps} steps) vs the 10,000 Fashion-MNIST test images, features of models/metrics/fmnist_classifier` : "FID/KID: not computed (--fid-n 0)";
  const notes = [
    `${r.trainCount} training images, ${r.testCount} held out; ${o.epochs} epochs of batch ${o.batch}, ${o.schedule} noise, OneCycle max lr ${o.lr}, device ${o.device}.`,
    `Step ms: median wall time of a training step. Peak MiB: the planned device memory of the training step (persistent state + transient buffers).`,
    fidText + ".",
  ];
  await writeFileAtomic(join(root, REPORT_MD), Buffer.from(renderMarkdown(summaries, { title: `Ablation: ${plan.modelName}`, command, notes })));
  const json = reportJson(summaries, { command, spec: plan.spec, grid: plan.axes, seeds: plan.seeds, extra: { device: o.device, epochs: o.epochs, batch: o.batch, fidN: o.fidN, sampler: plan.sampler, steps: o.steps } });
  await writeFileAtomic(join(root, REPORT_JSON), Buffer.from(JSON.stringify(json, null, 2) + "\n"));

  const bars = summaries.flatMap((s) => {
    const st = s.stats.evalLoss;
    if (!st) return [];
    const points = s.runs.flatMap((run) => (run.status === "done" && run.metrics.evalLoss !== null ? [run.metrics.evalLoss] : []));
    return [{ label: s.variant.label, mean: st.mean, spread: st.spread, points }];
  });
  const n = plan.seeds.length;
  if (bars.length) await writeBarChartPng(join(root, LOSS_CHART), { title: `eval loss per variant (${n} seed${n > 1 ? "s" : ""})`, yLabel: "eval loss", bars });
  const panels: MontagePanel[] = plan.variants.flatMap((v) => {
    const raster = r.grids.get(v.id);
    return raster ? [{ label: v.label, raster: upscale(raster, Math.max(1, Math.ceil(160 / raster.width))) }] : [];
  });
  if (panels.length) await writePng(join(root, SAMPLES_MONTAGE), montage(panels, { columns: Math.min(panels.length, 4) }));
  return { lossChart: bars.length > 0, montage: panels.length > 0 };
}

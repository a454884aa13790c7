// The ablation's files: ablation.md, ablation.json, ablation.html (the table, the charts and every
// variant's grid in one self-contained page), eval-loss.png and fid.png (a bar per variant, with
// error bars and each seed's value; each with its .svg) and samples.png (each variant's sample
// grid side by side). Written after every ablation, also an interrupted one: the report then shows
// what is finished.
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic-write.js";
import { writeAblationChart, type Bar } from "../image/ablation-chart.js";
import { montagePng, type MontagePanel } from "../image/montage.js";
import type { Raster } from "../image/png.js";
import { upscale } from "../image/upscale.js";
import type { AblationPlan } from "./plan.js";
import { LOSS_CHART, REPORT_JSON, REPORT_MD, SAMPLES_MONTAGE, type AblationOptions } from "./options.js";
import { renderHtmlReport } from "./report-html.js";
import { renderMarkdown, reportJson, type MetricKey, type VariantSummary } from "./report.js";

export const REPORT_HTML = "ablation.html";
export const FID_CHART = "fid.png";

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

/** The files written besides the markdown, JSON and HTML. */
export interface WrittenReport {
  readonly lossChart: boolean;
  readonly fidChart: boolean;
  readonly montage: boolean;
  /** The path of ablation.html. */
  readonly html: string;
}

/** One bar per variant that has the metric: its mean, spread and each finished seed's value. */
function metricBars(summaries: readonly VariantSummary[], key: MetricKey): Bar[] {
  return summaries.flatMap((s) => {
    const st = s.stats[key];
    if (!st) return [];
    const points = s.runs.flatMap((run) => (run.status === "done" && run.metrics[key] !== null ? [run.metrics[key]] : []));
    return [{ label: s.variant.label, mean: st.mean, spread: st.spread, points }];
  });
}

export async function writeReport(r: ReportInputs): Promise<WrittenReport> {
  const { plan, options: o, summaries, command } = r;
  const root = plan.root;
  const title = `Ablation: ${plan.modelName}`;
  const fidText = o.fidN > 0 ? `FID/KID: ${o.fidN} samples per run (${plan.sampler}, ${o.steps} steps) vs the 10,000 Fashion-MNIST test images, features of models/metrics/fmnist_classifier` : "FID/KID: not computed (--fid-n 0)";
  const notes = [
    `${r.trainCount} training images, ${r.testCount} held out; ${o.epochs} epochs of batch ${o.batch}, ${o.schedule} noise, OneCycle max lr ${o.lr}, device ${o.device}.`,
    `Step ms: median wall time of a training step. Peak MiB: the planned device memory of the training step (persistent state + transient buffers).`,
    fidText + ".",
  ];
  await writeFileAtomic(join(root, REPORT_MD), Buffer.from(renderMarkdown(summaries, { title, command, notes })));
  const json = reportJson(summaries, { command, spec: plan.spec, grid: plan.axes, seeds: plan.seeds, extra: { device: o.device, epochs: o.epochs, batch: o.batch, fidN: o.fidN, sampler: plan.sampler, steps: o.steps } });
  await writeFileAtomic(join(root, REPORT_JSON), Buffer.from(JSON.stringify(json, null, 2) + "\n"));

  const n = plan.seeds.length;
  const seeds = `${n} seed${n > 1 ? "s" : ""}`;
  const charts: { title: string; svg: string }[] = [];
  const lossBars = metricBars(summaries, "evalLoss");
  if (lossBars.length) {
    const chartTitle = `eval loss per variant (${seeds})`;
    charts.push({ title: chartTitle, svg: (await writeAblationChart(join(root, LOSS_CHART), { title: chartTitle, yTitle: "eval loss", bars: lossBars })).svgText });
  }
  const fidBars = metricBars(summaries, "fid");
  if (fidBars.length) {
    const chartTitle = `FID per variant (${seeds}, ${o.fidN} samples each)`;
    charts.push({ title: chartTitle, svg: (await writeAblationChart(join(root, FID_CHART), { title: chartTitle, yTitle: "FID", bars: fidBars })).svgText });
  }

  const grids = plan.variants.flatMap((v) => {
    const raster = r.grids.get(v.id);
    return raster ? [{ label: v.label, raster }] : [];
  });
  const panels: MontagePanel[] = grids.map((g) => ({ label: g.label, raster: upscale(g.raster, Math.max(1, Math.ceil(160 / g.raster.width))) }));
  if (panels.length) await writeFileAtomic(join(root, SAMPLES_MONTAGE), montagePng(panels, { columns: Math.min(panels.length, 4) }));

  const html = join(root, REPORT_HTML);
  await writeFileAtomic(html, Buffer.from(renderHtmlReport({ title, command, notes, summaries, charts, grids })));
  return { lossChart: lossBars.length > 0, fidChart: fidBars.length > 0, montage: panels.length > 0, html };
}

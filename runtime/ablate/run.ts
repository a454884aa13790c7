// `unetc ablate`'s work: the Cartesian product of the grids (first axis slowest) times the seeds,
// each a training run in its own folder (<out>/<variant>/seed-<s>), then FID/KID per run and the
// report. Every variant is checked before any training; an invalid one is reported and skipped
// (or stops everything with `strict`). Run again after an interruption: finished runs and
// evaluations are kept, a run stopped part-way resumes exactly from its checkpoint.
import { basename, join } from "node:path";
import type { Raster } from "../image/png.js";
import { describeDevice } from "../train/runners.js";
import { fitData, loadTrainData } from "../train/data.js";
import { formatSeconds } from "../train/duration.js";
import { recipeConfig } from "../train/recipe.js";
import { planAblation } from "./plan.js";
import { LOSS_CHART, REPORT_JSON, REPORT_MD, SAMPLES_MONTAGE, type AblationLog, type AblationOptions, type StopControl } from "./options.js";
import { renderMarkdown, reportJson, summarize, type AblationReportJson, type RunOutcome } from "./report.js";
import { runOne, type RunContext } from "./run-one.js";
import { FID_CHART, writeReport } from "./write-report.js";

export interface AblationRequest {
  readonly spec: string;
  readonly options: AblationOptions;
  /** Colour the diagnostics of variants that do not check. */
  readonly color: boolean;
  /** The command line, as the report shows it. */
  readonly command: string;
  /** A stop request ends the current run with a checkpoint, and the ablation after it. */
  readonly stop: StopControl;
  readonly log: AblationLog;
}

/** The report's files (under the ablation folder); null for a chart or montage with nothing to show. */
export interface AblationFiles {
  readonly markdown: string;
  readonly json: string;
  readonly html: string;
  readonly lossChart: string | null;
  readonly fidChart: string | null;
  readonly montage: string | null;
}

export interface AblationResult {
  /** Runs that stopped with an error (each reported, and listed in the report). */
  readonly failed: number;
  readonly modelName: string;
  /** The ablation folder. */
  readonly root: string;
  /** What ablation.json holds, less its `extra` (the grid, the seeds, a row per variant). */
  readonly report: AblationReportJson;
  readonly files: AblationFiles;
  /** Wall-clock seconds of the runs and the report. */
  readonly seconds: number;
}

/** Plans, runs and reports an ablation; throws a UserError for what cannot start. */
export async function runAblation(req: AblationRequest): Promise<AblationResult> {
  const { options: o, log } = req;
  const print = (line: string) => log.info(line);
  const plan = await planAblation(req.spec, o, req.color, log);
  const skipped = plan.invalidCount ? ` (${plan.invalidCount} variants invalid, skipped)` : "";
  print(`ablation of ${req.spec} (${plan.modelName}): ${plan.variants.length} variants x ${plan.seeds.length} seeds = ${plan.runs.length} runs in ${plan.root}${skipped}`);
  print(await describeDevice(o.device));
  if (o.data === "fashion-mnist") print("loading Fashion-MNIST ...");
  const data = await loadTrainData({ data: o.data, subset: o.subset, evalSubset: o.evalSubset, onWarning: (m) => log.problem(`warning: ${m}`) });
  for (const c of plan.valid) fitData(c.model, data, o.schedule);

  const ctx: RunContext = { data, options: o, sampler: plan.sampler, classifier: plan.classifier, memory: new Map(), shouldStop: () => req.stop.requested(), print };
  const outcomes = new Map<string, RunOutcome[]>();
  const grids = new Map<string, Raster>();
  const started = performance.now();
  req.stop.arm();
  try {
    for (const [k, run] of plan.runs.entries()) {
      const c = plan.checked.get(run.variant.id)!;
      const list = outcomes.get(run.variant.id) ?? [];
      outcomes.set(run.variant.id, list);
      if (c.error !== undefined) {
        list.push({ status: "invalid", seed: run.seed, dir: run.dir, error: c.error });
        continue;
      }
      print(`\n[${k + 1}/${plan.runs.length}] ${run.variant.label} seed ${run.seed} -> ${run.dir}`);
      const r = await runOne(run, c.model, c.specInfo, recipeConfig(o, run.seed), ctx);
      list.push(r.outcome);
      if (r.grid && !grids.has(run.variant.id)) grids.set(run.variant.id, r.grid);
      if (r.outcome.status === "failed") log.problem(`run failed: ${r.outcome.error}`);
      if (req.stop.requested()) break;
    }
  } finally {
    req.stop.disarm();
  }

  const summaries = summarize(plan.variants, outcomes);
  const written = await writeReport({ plan, options: o, summaries, grids, command: req.command, trainCount: data.train.count, testCount: data.test.count });
  print(`\n${renderMarkdown(summaries, { title: `Ablation: ${plan.modelName}`, command: req.command, notes: [] })}`);
  const extras = `${written.lossChart ? `, ${LOSS_CHART}` : ""}${written.fidChart ? `, ${FID_CHART}` : ""}${written.montage ? `, ${SAMPLES_MONTAGE}` : ""}, ${basename(written.html)}`;
  const seconds = (performance.now() - started) / 1000;
  print(`wrote ${join(plan.root, REPORT_MD)}, ${REPORT_JSON}${extras} in ${formatSeconds(seconds)}`);
  const at = (name: string, written = true): string | null => (written ? join(plan.root, name) : null);
  return {
    failed: [...outcomes.values()].flat().filter((x) => x.status === "failed").length,
    modelName: plan.modelName,
    root: plan.root,
    report: reportJson(summaries, { command: req.command, spec: plan.spec, grid: plan.axes, seeds: plan.seeds }),
    files: { markdown: join(plan.root, REPORT_MD), json: join(plan.root, REPORT_JSON), html: written.html, lossChart: at(LOSS_CHART, written.lossChart), fidChart: at(FID_CHART, written.fidChart), montage: at(SAMPLES_MONTAGE, written.montage) },
    seconds,
  };
}

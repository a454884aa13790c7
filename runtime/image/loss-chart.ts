// The run folder's loss figure (loss.png and loss.svg): the train loss per logged step, raw and
// smoothed, and the eval loss at the end of each epoch, on a log scale; the learning rate below it
// on a second panel sharing the step axis. A vega-lite spec (vega-chart.ts renders it).
import type { TopLevelSpec } from "vega-lite";
import { EVAL_COLOR, TRAIN_COLOR, TRAIN_RAW_COLOR, writeChart, type WrittenChart } from "./vega-chart.js";

export interface LossPoint {
  readonly step: number;
  readonly loss: number;
}

export interface TrainPoint extends LossPoint {
  /** The learning rate at that step, for the second panel. */
  readonly lr?: number;
}

export interface LossChartOptions {
  readonly train: readonly TrainPoint[];
  readonly eval?: readonly LossPoint[];
  /** Weight of the exponential moving average drawn over the raw train loss (0..1; 0: none). Default 0.8 when there are more than 50 points. */
  readonly smoothing?: number;
  readonly title?: string;
  readonly width?: number;
}

export const SERIES = { raw: "train", smoothed: "train (smoothed)", eval: "eval" } as const;

/** The TensorBoard-style moving average (debiased, so the first points are not pulled to 0). */
export function smooth(points: readonly LossPoint[], alpha: number): LossPoint[] {
  const out: LossPoint[] = [];
  let acc = 0;
  let k = 0;
  for (const p of points) {
    if (!Number.isFinite(p.loss)) continue;
    acc = alpha * acc + (1 - alpha) * p.loss;
    k++;
    out.push({ step: p.step, loss: acc / (1 - alpha ** k) });
  }
  return out;
}

// A log axis has no place for 0, a negative or a NaN: such points are left out.
const onLogScale = (p: LossPoint): boolean => Number.isFinite(p.step) && Number.isFinite(p.loss) && p.loss > 0;

export function lossChartSpec(o: LossChartOptions): TopLevelSpec {
  const width = o.width ?? 560;
  const smoothing = o.smoothing ?? (o.train.length > 50 ? 0.8 : 0);
  const rows: { step: number; loss: number; series: string }[] = [];
  const add = (pts: readonly LossPoint[], series: string) => {
    for (const p of pts) if (onLogScale(p)) rows.push({ step: p.step, loss: p.loss, series });
  };
  add(o.train, SERIES.raw);
  if (smoothing > 0) add(smooth(o.train, smoothing), SERIES.smoothed);
  add(o.eval ?? [], SERIES.eval);
  const series: string[] = [SERIES.raw, ...(smoothing > 0 ? [SERIES.smoothed] : []), ...(o.eval?.length ? [SERIES.eval] : [])];
  const colors = series.map((s) => (s === SERIES.raw ? (smoothing > 0 ? TRAIN_RAW_COLOR : TRAIN_COLOR) : s === SERIES.smoothed ? TRAIN_COLOR : EVAL_COLOR));
  const color = { field: "series", type: "nominal", title: null, scale: { domain: series, range: colors }, legend: { orient: "top-right", symbolType: "stroke", symbolStrokeWidth: 2.5 } } as const;
  const x = { field: "step", type: "quantitative", title: "step" } as const;

  const lr = o.train.flatMap((p) => (p.lr !== undefined && Number.isFinite(p.lr) && Number.isFinite(p.step) ? [{ step: p.step, lr: p.lr }] : []));
  const lossPanel = {
    width,
    height: 260,
    data: { values: rows },
    encoding: { x: { ...x, title: lr.length ? null : "step" }, y: { field: "loss", type: "quantitative", title: "loss (log scale)", scale: { type: "log" } }, color },
    layer: [
      { transform: [{ filter: `datum.series !== '${SERIES.eval}'` }], mark: { type: "line", strokeWidth: 1.5, clip: true } },
      { transform: [{ filter: `datum.series === '${SERIES.eval}'` }], mark: { type: "line", point: { filled: true, size: 40 }, strokeWidth: 1.5, clip: true } },
    ],
  };
  const lrPanel = {
    width,
    height: 90,
    data: { values: lr },
    mark: { type: "line", color: "#555", strokeWidth: 1.5 },
    encoding: { x, y: { field: "lr", type: "quantitative", title: "learning rate", axis: { format: "~e", tickCount: 3 } } },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(o.title ? { title: o.title } : {}),
    vconcat: lr.length ? [lossPanel, lrPanel] : [lossPanel],
    resolve: { scale: { x: "shared" } },
  } as TopLevelSpec;
}

/** Writes loss.png and loss.svg (or whatever `pngPath` names). */
export function writeLossChart(pngPath: string, o: LossChartOptions): Promise<WrittenChart> {
  return writeChart(pngPath, lossChartSpec(o));
}

// An ablation chart (eval-loss.png, fid.png and their .svg): one bar per variant at its mean over
// seeds, an error bar of ± the spread (sample standard deviation), and each seed's value as a dot
// beside the others so equal values stay countable. A vega-lite spec (vega-chart.ts renders it).
import type { TopLevelSpec } from "vega-lite";
import { EVAL_COLOR, TRAIN_COLOR, TRAIN_RAW_COLOR, writeChart, type WrittenChart } from "./vega-chart.js";

export interface Bar {
  readonly label: string;
  readonly mean: number;
  /** Half the error bar's length (e.g. the standard deviation over seeds); 0 draws none. */
  readonly spread: number;
  /** One value per seed, drawn as dots over the bar. */
  readonly points?: readonly number[];
}

export interface AblationChartOptions {
  readonly title: string;
  readonly yTitle: string;
  readonly bars: readonly Bar[];
  /** Bars grow from 0 and the axis includes it (default true); false fits the axis to the data. */
  readonly fromZero?: boolean;
}

export function ablationChartSpec(o: AblationChartOptions): TopLevelSpec {
  const finite = (v: number) => Number.isFinite(v);
  const bars = o.bars.filter((b) => finite(b.mean)).map((b) => {
    const s = finite(b.spread) ? Math.abs(b.spread) : 0;
    return { label: b.label, mean: b.mean, lo: b.mean - s, hi: b.mean + s, spread: s };
  });
  // Seeds' dots sit side by side across the bar (pixels from its centre), in seed order.
  const points = o.bars.flatMap((b) => {
    const vs = (b.points ?? []).filter(finite);
    return vs.map((value, seed) => ({ label: b.label, value, seed, dx: (seed - (vs.length - 1) / 2) * Math.min(8, 32 / Math.max(1, vs.length)) }));
  });
  const labels = o.bars.map((b) => b.label);
  const long = labels.some((l) => l.length > 12);
  const x = { field: "label", type: "nominal", title: null, sort: labels, axis: { labelAngle: long ? -30 : 0, labelLimit: 240 } } as const;
  const zero = o.fromZero ?? true;
  const y = { type: "quantitative", title: o.yTitle, scale: { zero } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.title,
    width: { step: Math.max(48, Math.min(120, 560 / Math.max(1, labels.length))) },
    height: 260,
    encoding: { x },
    layer: [
      { data: { values: bars }, mark: { type: "bar", width: { band: 0.6 }, color: TRAIN_RAW_COLOR, stroke: TRAIN_COLOR, strokeWidth: 1 }, encoding: { y: { ...y, field: "mean" } } },
      {
        data: { values: bars.filter((b) => b.spread > 0) },
        mark: { type: "errorbar", ticks: { size: 10 }, color: "#000" },
        encoding: { y: { ...y, field: "lo" }, y2: { field: "hi" } },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 36, color: EVAL_COLOR, opacity: 0.9, xOffset: { expr: "datum.dx" } },
        encoding: { y: { ...y, field: "value" }, tooltip: [{ field: "label" }, { field: "seed" }, { field: "value", format: ".4g" }] },
      },
    ],
  } as TopLevelSpec;
}

export function writeAblationChart(pngPath: string, o: AblationChartOptions): Promise<WrittenChart> {
  return writeChart(pngPath, ablationChartSpec(o));
}

// The run folder's loss curve: train loss per step and eval loss per epoch (at the step where
// the epoch ended) as two polylines over axes with tick marks, grid lines, numeric labels and a
// legend; linear or log y. Drawn into an RGBA canvas, written with pngjs: no chart library.
import { Canvas, type Clip, type Rgb } from "./canvas.js";
import { encodePng, writePng, type Raster } from "./png.js";

export interface LossPoint {
  readonly step: number;
  readonly loss: number;
}

export interface LossPlotOptions {
  readonly train: readonly LossPoint[];
  readonly eval?: readonly LossPoint[];
  /** Logarithmic y axis (non-positive losses are skipped). Default false. */
  readonly logY?: boolean;
  /** Also draw an exponential moving average of the train loss (TensorBoard-style, 0..1). Default 0: off. */
  readonly smoothing?: number;
  readonly width?: number;
  readonly height?: number;
}

export const TRAIN_COLOR: Rgb = [31, 119, 180];
export const TRAIN_RAW_COLOR: Rgb = [165, 200, 228];
export const EVAL_COLOR: Rgb = [230, 110, 0];
const AXIS: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const MARGIN = { left: 70, right: 20, top: 30, bottom: 44 } as const;

/** Pixel mapping of a plot: the layout tests and callers can use to find a point. */
export interface PlotLayout {
  readonly width: number;
  readonly height: number;
  readonly area: Clip;
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
  readonly logY: boolean;
  x(step: number): number;
  y(loss: number): number;
}

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** "Nice" round tick values within [lo, hi], about `target` of them. */
export function linearTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, target);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Decades (with 2 and 5 between them when the range is narrow) within [lo, hi], lo > 0. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi) - Math.log10(lo);
  const mults = decades > 3 ? [1] : [1, 2, 5];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mults) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : linearTicks(lo, hi, 4); // a narrow range: round values placed on the log scale
}

export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

function usable(p: LossPoint, logY: boolean): boolean {
  return Number.isFinite(p.step) && Number.isFinite(p.loss) && (!logY || p.loss > 0);
}

export function plotLayout(o: LossPlotOptions): PlotLayout {
  const width = o.width ?? 640;
  const height = o.height ?? 400;
  const logY = o.logY ?? false;
  const pts = [...o.train, ...(o.eval ?? [])].filter((p) => usable(p, logY));
  // Loops, not Math.min(...xs): a long run has more points than a call may take arguments.
  let xMin = 0;
  let xMax = 1;
  for (const p of pts) {
    xMin = Math.min(xMin, p.step);
    xMax = Math.max(xMax, p.step);
  }
  if (xMax <= xMin) xMax = xMin + 1;
  const tf = (v: number): number => (logY ? Math.log10(v) : v);
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) {
    lo = Math.min(lo, tf(p.loss));
    hi = Math.max(hi, tf(p.loss));
  }
  if (pts.length === 0) [lo, hi] = logY ? [-1, 0] : [0, 1];
  const dataLo = lo;
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(hi) * 0.1, logY ? 0.1 : 1e-3);
    lo -= pad;
    hi += pad;
  }
  const margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  if (!logY && lo < 0 && dataLo >= 0) lo = 0; // losses are non-negative: do not show negative space
  const area: Clip = { x0: MARGIN.left, y0: MARGIN.top, x1: width - 1 - MARGIN.right, y1: height - 1 - MARGIN.bottom };
  const yMin = logY ? 10 ** lo : lo;
  const yMax = logY ? 10 ** hi : hi;
  return {
    width,
    height,
    area,
    xMin,
    xMax,
    yMin,
    yMax,
    logY,
    x: (step) => area.x0 + ((step - xMin) / (xMax - xMin)) * (area.x1 - area.x0),
    y: (loss) => area.y1 - ((tf(loss) - lo) / (hi - lo)) * (area.y1 - area.y0),
  };
}

function polyline(cv: Canvas, L: PlotLayout, pts: readonly LossPoint[], color: Rgb): void {
  let prev: LossPoint | undefined;
  for (const p of pts) {
    if (!usable(p, L.logY)) {
      prev = undefined; // a gap, not a line through a NaN
      continue;
    }
    if (prev) cv.line(L.x(prev.step), L.y(prev.loss), L.x(p.step), L.y(p.loss), color, L.area);
    else cv.set(L.x(p.step), L.y(p.loss), color, L.area);
    prev = p;
  }
}

function ema(pts: readonly LossPoint[], alpha: number): LossPoint[] {
  const out: LossPoint[] = [];
  let acc: number | undefined;
  for (const p of pts) {
    if (!Number.isFinite(p.loss)) continue;
    acc = acc === undefined ? p.loss : alpha * acc + (1 - alpha) * p.loss;
    out.push({ step: p.step, loss: acc });
  }
  return out;
}

export function renderLossPlot(o: LossPlotOptions): Raster {
  const L = plotLayout(o);
  const cv = new Canvas(L.width, L.height);
  const { area } = L;
  const yTicks = L.logY ? logTicks(L.yMin, L.yMax) : linearTicks(L.yMin, L.yMax);
  for (const v of yTicks) {
    const y = L.y(v);
    cv.line(area.x0 + 1, y, area.x1, y, GRID);
    cv.line(area.x0 - 5, y, area.x0, y, AXIS);
    const label = formatTick(v);
    cv.text(area.x0 - 9 - cv.textWidth(label), Math.round(y) - 4, label, AXIS);
  }
  for (const v of linearTicks(L.xMin, L.xMax, 6)) {
    const x = L.x(v);
    cv.line(x, area.y0, x, area.y1 - 1, GRID);
    cv.line(x, area.y1, x, area.y1 + 5, AXIS);
    const label = formatTick(v);
    cv.text(Math.round(x - cv.textWidth(label) / 2), area.y1 + 9, label, AXIS);
  }
  cv.line(area.x0, area.y0, area.x0, area.y1, AXIS);
  cv.line(area.x0, area.y1, area.x1, area.y1, AXIS);
  const xTitle = "STEP";
  cv.text(Math.round((area.x0 + area.x1 - cv.textWidth(xTitle)) / 2), L.height - 14, xTitle, AXIS);
  cv.text(6, 8, L.logY ? "LOSS LOG SCALE" : "LOSS", AXIS);

  const smoothing = o.smoothing ?? 0;
  if (smoothing > 0) {
    polyline(cv, L, o.train, TRAIN_RAW_COLOR);
    polyline(cv, L, ema(o.train, smoothing), TRAIN_COLOR);
  } else polyline(cv, L, o.train, TRAIN_COLOR);
  const evalPts = o.eval ?? [];
  polyline(cv, L, evalPts, EVAL_COLOR);
  for (const p of evalPts) if (usable(p, L.logY)) cv.fillRect(Math.round(L.x(p.step)) - 2, Math.round(L.y(p.loss)) - 2, 5, 5, EVAL_COLOR);

  // Legend, top right inside the plot area.
  const entries: [string, Rgb][] = [["TRAIN", TRAIN_COLOR]];
  if (evalPts.length) entries.push(["EVAL", EVAL_COLOR]);
  entries.forEach(([name, color], k) => {
    const y = area.y0 + 8 + k * 16;
    const x = area.x1 - 90;
    cv.fillRect(x, y + 3, 18, 4, color);
    cv.text(x + 24, y, name, AXIS);
  });
  return cv.raster();
}

export function encodeLossPlotPng(o: LossPlotOptions): Buffer {
  return encodePng(renderLossPlot(o));
}

export async function writeLossPlotPng(path: string, o: LossPlotOptions): Promise<void> {
  await writePng(path, renderLossPlot(o));
}

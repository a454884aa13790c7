// An ablation chart: one vertical bar per variant at its mean over seeds, an error bar of ± the
// spread, each seed's value as a dot, y ticks with grid lines, and the variant's label wrapped under
// its bar. Drawn with the canvas and tick helpers of the loss plot; no chart library.
import { Canvas, type Clip, type Rgb } from "./canvas.js";
import { EVAL_COLOR, TRAIN_COLOR, TRAIN_RAW_COLOR, formatTick, linearTicks } from "./loss-plot.js";
import { encodePng, writePng, type Raster } from "./png.js";

export interface Bar {
  readonly label: string;
  readonly mean: number;
  /** Half the error bar's length (e.g. the standard deviation over seeds); 0 draws none. */
  readonly spread: number;
  /** One value per seed, drawn as dots over the bar. */
  readonly points?: readonly number[];
}

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel?: string;
  readonly bars: readonly Bar[];
  /** Bars grow from 0 and the axis includes 0 (default true); false fits the axis to the data. */
  readonly fromZero?: boolean;
  /** Default: wide enough for the bars and their labels, at least 360. */
  readonly width?: number;
  readonly height?: number;
}

export const BAR_FILL: Rgb = TRAIN_RAW_COLOR;
export const BAR_EDGE: Rgb = TRAIN_COLOR;
export const POINT_COLOR: Rgb = EVAL_COLOR;
const AXIS: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const SCALE = 2; // font cell size in pixels
const CHAR_W = 4 * SCALE; // one glyph and its gap
const LINE_H = 7 * SCALE;
const MAX_LABEL_LINES = 3;
const SLOT = { min: 48, max: 140, pad: 12 } as const;
const MARGIN = { left: 70, right: 20, top: 44, bottom: 16 } as const;

/**
 * Breaks `text` at spaces into lines of at most `maxChars`, cutting longer words; past `maxLines`
 * the last line ends in "..". The bitmap font cannot rotate, so long labels wrap instead.
 */
export function wrapLabel(text: string, maxChars: number, maxLines = MAX_LABEL_LINES): string[] {
  const width = Math.max(1, maxChars);
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length ? lines[lines.length - 1] : undefined;
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else for (let i = 0; i < word.length; i += width) lines.push(word.slice(i, i + width));
  }
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1].slice(0, Math.max(0, width - 2))}..`;
  return kept;
}

/** Pixel mapping of a bar chart, for callers and tests that look for a bar. */
export interface BarChartLayout {
  readonly width: number;
  readonly height: number;
  readonly area: Clip;
  /** Horizontal space per bar; the bar is centred in it. */
  readonly slot: number;
  readonly barWidth: number;
  readonly yMin: number;
  readonly yMax: number;
  /** The value bars grow from: 0, or yMin when not fromZero. */
  readonly base: number;
  readonly labels: readonly (readonly string[])[];
  /** x of the centre of bar i. */
  x(i: number): number;
  y(v: number): number;
}

function valueRange(o: BarChartOptions): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const see = (v: number) => {
    if (!Number.isFinite(v)) return;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  };
  for (const b of o.bars) {
    const s = Number.isFinite(b.spread) ? Math.abs(b.spread) : 0;
    see(b.mean - s);
    see(b.mean + s);
    for (const p of b.points ?? []) see(p);
  }
  if (lo > hi) [lo, hi] = [0, 1]; // no data
  return [lo, hi];
}

export function barChartLayout(o: BarChartOptions): BarChartLayout {
  const fromZero = o.fromZero ?? true;
  const longestWord = Math.max(1, ...o.bars.flatMap((b) => b.label.split(/\s+/).map((w) => w.length)));
  const wantSlot = Math.min(SLOT.max, Math.max(SLOT.min, longestWord * CHAR_W + SLOT.pad));
  const width = o.width ?? Math.max(360, MARGIN.left + MARGIN.right + wantSlot * Math.max(1, o.bars.length));
  const height = o.height ?? 360;
  const x1 = width - 1 - MARGIN.right;
  const slot = (x1 - MARGIN.left) / Math.max(1, o.bars.length);
  const labels = o.bars.map((b) => wrapLabel(b.label, Math.floor((slot - SLOT.pad + SCALE) / CHAR_W)));
  const lines = Math.max(1, ...labels.map((l) => l.length));
  const bottom = MARGIN.bottom + 10 + lines * LINE_H;
  const area: Clip = { x0: MARGIN.left, y0: MARGIN.top, x1, y1: height - 1 - bottom };

  let [lo, hi] = valueRange(o);
  const dataLo = lo;
  const dataHi = hi;
  if (fromZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(hi) * 0.1, 1e-3);
    lo -= pad;
    hi += pad;
  }
  const margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  // Bars from zero start at the axis: no empty band below 0 for positive data (above it for negative).
  if (fromZero && dataLo >= 0) lo = 0;
  else if (fromZero && dataHi <= 0) hi = 0; // not both: all-zero data keeps its padded top

  return {
    width,
    height,
    area,
    slot,
    barWidth: Math.max(3, Math.round(Math.min(slot * 0.6, 60))),
    yMin: lo,
    yMax: hi,
    base: fromZero ? 0 : lo,
    labels,
    x: (i) => area.x0 + (i + 0.5) * slot,
    y: (v) => area.y1 - ((v - lo) / (hi - lo)) * (area.y1 - area.y0),
  };
}

export function renderBarChart(o: BarChartOptions): Raster {
  const L = barChartLayout(o);
  const cv = new Canvas(L.width, L.height);
  const { area } = L;
  for (const v of linearTicks(L.yMin, L.yMax)) {
    const y = L.y(v);
    cv.line(area.x0 + 1, y, area.x1, y, GRID);
    cv.line(area.x0 - 5, y, area.x0, y, AXIS);
    const label = formatTick(v);
    cv.text(area.x0 - 9 - cv.textWidth(label), Math.round(y) - 4, label, AXIS);
  }

  o.bars.forEach((b, i) => {
    const cx = Math.round(L.x(i));
    const half = Math.floor(L.barWidth / 2);
    if (Number.isFinite(b.mean)) {
      const top = Math.round(Math.min(L.y(b.mean), L.y(L.base)));
      const bottom = Math.round(Math.max(L.y(b.mean), L.y(L.base)));
      cv.fillRect(cx - half, top, 2 * half + 1, bottom - top + 1, BAR_FILL);
      cv.line(cx - half, top, cx + half, top, BAR_EDGE, area);
      cv.line(cx - half, bottom, cx + half, bottom, BAR_EDGE, area);
      cv.line(cx - half, top, cx - half, bottom, BAR_EDGE, area);
      cv.line(cx + half, top, cx + half, bottom, BAR_EDGE, area);
      if (Number.isFinite(b.spread) && b.spread > 0) {
        const [ya, yb] = [L.y(b.mean - Math.abs(b.spread)), L.y(b.mean + Math.abs(b.spread))];
        const cap = Math.max(2, Math.round(half / 2));
        cv.line(cx, ya, cx, yb, AXIS, area);
        cv.line(cx - cap, ya, cx + cap, ya, AXIS, area);
        cv.line(cx - cap, yb, cx + cap, yb, AXIS, area);
      }
    }
    // Seeds' dots spread sideways a little so equal values stay countable.
    const pts = (b.points ?? []).filter((p) => Number.isFinite(p));
    pts.forEach((p, k) => {
      const dx = Math.round((k - (pts.length - 1) / 2) * Math.min(6, (2 * half) / Math.max(1, pts.length)));
      const py = Math.round(L.y(p));
      for (let j = -1; j <= 1; j++) for (let q = -1; q <= 1; q++) cv.set(cx + dx + q, py + j, POINT_COLOR, area);
    });
    L.labels[i].forEach((line, k) => cv.text(Math.round(cx - cv.textWidth(line) / 2), area.y1 + 12 + k * LINE_H, line, AXIS));
  });

  cv.line(area.x0, area.y0, area.x0, area.y1, AXIS);
  cv.line(area.x0, area.y1, area.x1, area.y1, AXIS);
  if (L.yMin < 0 && L.yMax > 0) cv.line(area.x0, L.y(0), area.x1, L.y(0), AXIS);
  cv.text(Math.max(6, Math.round((L.width - cv.textWidth(o.title)) / 2)), 8, o.title, AXIS);
  if (o.yLabel) cv.text(6, 26, o.yLabel, AXIS);
  return cv.raster();
}

export function encodeBarChartPng(o: BarChartOptions): Buffer {
  return encodePng(renderBarChart(o));
}

export async function writeBarChartPng(path: string, o: BarChartOptions): Promise<void> {
  await writePng(path, renderBarChart(o));
}

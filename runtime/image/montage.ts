// Side-by-side panels (e.g. each ablation variant's sample grid) with a label above each, on white:
// one row, or rows of `columns`. Panels may differ in size and channels; each column is as wide as
// its widest cell, each panel centred in its cell, and a panel with alpha is composited over white.
import { Canvas } from "./canvas.js";
import { wrapLabel } from "./bar-chart.js";
import { textCells } from "./font.js";
import type { Raster } from "./png.js";

export interface MontagePanel {
  readonly label: string;
  readonly raster: Raster;
}

export interface MontageOptions {
  /** Pixels between panels and around the edge; default 8. */
  readonly gap?: number;
  /** Panels per row; default all in one row. */
  readonly columns?: number;
}

const SCALE = 2; // font cell size in pixels
const CHAR_W = 4 * SCALE;
const LINE_H = 7 * SCALE;
/** A narrow panel still gets this many characters per label line (its cell widens to fit). */
const MIN_LABEL_CHARS = 10;

export interface MontageCell {
  /** Top-left of the panel's pixels. */
  readonly x: number;
  readonly y: number;
  /** Label lines, each centred over the panel, the first with its top at labelY. */
  readonly lines: readonly string[];
  readonly labelY: number;
  /** Centre of the cell, for the labels. */
  readonly cx: number;
}

export interface MontageLayout {
  readonly width: number;
  readonly height: number;
  readonly cells: readonly MontageCell[];
}

const textWidth = (s: string) => textCells(s) * SCALE;

export function montageLayout(panels: readonly MontagePanel[], o: MontageOptions = {}): MontageLayout {
  if (panels.length === 0) throw new RangeError("montage: no panels");
  const gap = Math.max(0, Math.round(o.gap ?? 8));
  const cols = Math.max(1, Math.min(Math.floor(o.columns ?? panels.length), panels.length));
  const rows = Math.ceil(panels.length / cols);
  const lines = panels.map((p) => (p.label.trim() ? wrapLabel(p.label, Math.max(MIN_LABEL_CHARS, Math.floor((p.raster.width + SCALE) / CHAR_W))) : []));
  const cellW = panels.map((p, i) => Math.max(p.raster.width, ...lines[i].map(textWidth)));

  const colW = Array.from({ length: cols }, () => 0);
  const headH = Array.from({ length: rows }, () => 0);
  const bodyH = Array.from({ length: rows }, () => 0);
  panels.forEach((p, i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    colW[c] = Math.max(colW[c], cellW[i]);
    headH[r] = Math.max(headH[r], lines[i].length * LINE_H);
    bodyH[r] = Math.max(bodyH[r], p.raster.height);
  });
  const colX = colW.map((_, c) => gap + colW.slice(0, c).reduce((s, w) => s + w + gap, 0));
  const rowY = headH.map((_, r) => gap + headH.slice(0, r).reduce((s, h, k) => s + h + bodyH[k] + gap, 0));

  const cells = panels.map((p, i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    return {
      x: colX[c] + Math.floor((colW[c] - p.raster.width) / 2),
      y: rowY[r] + headH[r],
      lines: lines[i],
      labelY: rowY[r] + headH[r] - lines[i].length * LINE_H,
      cx: colX[c] + colW[c] / 2,
    };
  });
  const width = colX[cols - 1] + colW[cols - 1] + gap;
  const height = rowY[rows - 1] + headH[rows - 1] + bodyH[rows - 1] + gap;
  return { width, height, cells };
}

/** Copies `r` into the canvas with its top-left at (x0, y0); gray and RGB as is, RGBA over white. */
function blit(cv: Canvas, r: Raster, x0: number, y0: number): void {
  const C = r.channels;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const i = (y * r.width + x) * C;
      const rgb = C === 1 ? [r.data[i], r.data[i], r.data[i]] : [r.data[i], r.data[i + 1], r.data[i + 2]];
      const a = C === 4 ? r.data[i + 3] / 255 : 1;
      cv.set(x0 + x, y0 + y, [0, 1, 2].map((k) => Math.round(rgb[k] * a + 255 * (1 - a))) as [number, number, number]);
    }
  }
}

export function montage(panels: readonly MontagePanel[], o: MontageOptions = {}): Raster {
  const L = montageLayout(panels, o);
  const cv = new Canvas(L.width, L.height);
  panels.forEach((p, i) => {
    const cell = L.cells[i];
    if (p.raster.data.length !== p.raster.width * p.raster.height * p.raster.channels) {
      throw new RangeError(`montage: panel ${i} "${p.label}" has ${p.raster.data.length} bytes for ${p.raster.width}x${p.raster.height}x${p.raster.channels}`);
    }
    cell.lines.forEach((line, k) => cv.text(Math.round(cell.cx - textWidth(line) / 2), cell.labelY + k * LINE_H, line, [0, 0, 0], SCALE));
    blit(cv, p.raster, cell.x, cell.y);
  });
  return cv.raster();
}

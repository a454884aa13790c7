// Side-by-side panels (each ablation variant's sample grid) with a label above each, on white: one
// row, or rows of `columns`. Panels may differ in size; each column is as wide as its widest cell,
// each panel centred in its cell. Composed as SVG and rasterized by resvg with the shipped font.
import type { Raster } from "./png.js";
import { svgDocument, svgImage, svgText, svgToPng, textWidth, wrapText } from "./svg.js";

export interface MontagePanel {
  readonly label: string;
  readonly raster: Raster;
}

export interface MontageOptions {
  /** Pixels between panels and around the edge; default 10. */
  readonly gap?: number;
  /** Panels per row; default all in one row. */
  readonly columns?: number;
}

const LABEL = { size: 13, line: 17 } as const;
/** A narrow panel's label may still be this wide (its cell widens to fit). */
const MIN_LABEL_WIDTH = 120;

export interface MontageCell {
  /** Top-left of the panel's pixels. */
  readonly x: number;
  readonly y: number;
  /** Label lines, each centred over the panel; the first line's baseline at labelY. */
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

export function montageLayout(panels: readonly MontagePanel[], o: MontageOptions = {}): MontageLayout {
  if (panels.length === 0) throw new RangeError("montage: no panels");
  const gap = Math.max(0, Math.round(o.gap ?? 10));
  const cols = Math.max(1, Math.min(Math.floor(o.columns ?? panels.length), panels.length));
  const rows = Math.ceil(panels.length / cols);
  const lines = panels.map((p) => (p.label.trim() ? wrapText(p.label, Math.max(MIN_LABEL_WIDTH, p.raster.width), LABEL.size) : []));
  const cellW = panels.map((p, i) => Math.max(p.raster.width, ...lines[i].map((l) => textWidth(l, LABEL.size))));

  const colW = Array.from({ length: cols }, () => 0);
  const headH = Array.from({ length: rows }, () => 0);
  const bodyH = Array.from({ length: rows }, () => 0);
  panels.forEach((p, i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    colW[c] = Math.max(colW[c], cellW[i]);
    headH[r] = Math.max(headH[r], lines[i].length ? lines[i].length * LABEL.line + 4 : 0);
    bodyH[r] = Math.max(bodyH[r], p.raster.height);
  });
  const colX = colW.map((_, c) => gap + colW.slice(0, c).reduce((s, w) => s + w + gap, 0));
  const rowY = headH.map((_, r) => gap + headH.slice(0, r).reduce((s, h, k) => s + h + bodyH[k] + gap, 0));

  const cells = panels.map((p, i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    const top = rowY[r] + headH[r];
    return {
      x: colX[c] + Math.floor((colW[c] - p.raster.width) / 2),
      y: top,
      lines: lines[i],
      labelY: top - 4 - (lines[i].length - 1) * LABEL.line - Math.round(LABEL.size * 0.3),
      cx: colX[c] + colW[c] / 2,
    };
  });
  const width = colX[cols - 1] + colW[cols - 1] + gap;
  const height = rowY[rows - 1] + headH[rows - 1] + bodyH[rows - 1] + gap;
  return { width, height, cells };
}

export function montageSvg(panels: readonly MontagePanel[], o: MontageOptions = {}): string {
  const L = montageLayout(panels, o);
  const body = panels.flatMap((p, i) => {
    const cell = L.cells[i];
    if (p.raster.data.length !== p.raster.width * p.raster.height * p.raster.channels) {
      throw new RangeError(`montage: panel ${i} "${p.label}" has ${p.raster.data.length} bytes for ${p.raster.width}x${p.raster.height}x${p.raster.channels}`);
    }
    return [...cell.lines.map((line, k) => svgText(cell.cx, cell.labelY + k * LABEL.line, line, { size: LABEL.size, anchor: "middle" })), svgImage(cell.x, cell.y, p.raster)];
  });
  return svgDocument(L.width, L.height, body);
}

export function montagePng(panels: readonly MontagePanel[], o: MontageOptions = {}): Buffer {
  return svgToPng(montageSvg(panels, o));
}

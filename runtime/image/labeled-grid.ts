// A sample grid a person wants to look at: the images enlarged (nearest) to at least 64 px, a label
// left of each row (the class), optional headers over the columns (a trajectory's steps) and a
// caption above (model, step, sampler, seed). Composed as SVG (the pixel grid embedded as one PNG
// at its own size, plus text) and rasterized by resvg with the shipped font.
import { writeFileAtomic } from "../data/atomic-write.js";
import { gridRaster, scaleToAtLeast, type GridOptions } from "./grid.js";
import { svgDocument, svgImage, svgText, svgToPng, textWidth } from "./svg.js";

export interface LabeledGridOptions extends Omit<GridOptions, "scale" | "gap"> {
  /** Default: the smallest whole factor that makes each image at least 64 px. */
  readonly scale?: number;
  /** Pixels between images; default 4. */
  readonly gap?: number;
  /** One per row (e.g. class names); shown left of the row. */
  readonly rowLabels?: readonly string[];
  /** One per column (e.g. a trajectory's steps); shown above it. */
  readonly colLabels?: readonly string[];
  /** Lines above the grid. */
  readonly caption?: readonly string[];
}

export interface LabeledGridLayout {
  readonly width: number;
  readonly height: number;
  /** Top-left of the first image. */
  readonly gridX: number;
  readonly gridY: number;
  /** One image's size on the sheet, and the pixels between images. */
  readonly cell: number;
  readonly cellHeight: number;
  readonly gap: number;
  readonly rows: number;
  readonly cols: number;
  readonly scale: number;
}

export interface LabeledGrid {
  readonly svg: string;
  readonly layout: LabeledGridLayout;
}

const PAD = 10;
const CAPTION = { size: 13, line: 18 } as const;
const ROW_LABEL = 13;
const COL_LABEL = { size: 11, height: 16 } as const;

export function labeledGrid(images: Float32Array, o: LabeledGridOptions): LabeledGrid {
  const scale = Math.max(1, Math.round(o.scale ?? scaleToAtLeast(o.height, o.width)));
  const gap = o.gap ?? 4;
  const cols = Math.max(1, Math.min(o.cols ?? Math.ceil(Math.sqrt(o.count)), o.count));
  const rows = Math.ceil(o.count / cols);
  const raster = gridRaster(images, { ...o, cols, scale, gap });
  const [cell, cellHeight] = [o.width * scale, o.height * scale];

  const rowLabels = o.rowLabels?.slice(0, rows) ?? [];
  const colLabels = o.colLabels?.slice(0, cols) ?? [];
  const caption = o.caption ?? [];
  const labelW = rowLabels.length ? Math.max(...rowLabels.map((l) => textWidth(l, ROW_LABEL))) + 10 : 0;
  const gridX = PAD + labelW;
  const gridY = PAD + caption.length * CAPTION.line + (caption.length ? 6 : 0) + (colLabels.length ? COL_LABEL.height : 0);
  const captionW = Math.max(0, ...caption.map((l) => textWidth(l, CAPTION.size)));
  const colLabelOverhang = colLabels.length ? Math.max(0, textWidth(colLabels[colLabels.length - 1], COL_LABEL.size) - cell) / 2 : 0;
  const width = Math.max(gridX + raster.width + Math.ceil(colLabelOverhang), PAD + captionW) + PAD;
  const height = gridY + raster.height + PAD;

  const body: string[] = [];
  caption.forEach((line, i) => body.push(svgText(PAD, PAD + CAPTION.size + i * CAPTION.line, line, { size: CAPTION.size })));
  colLabels.forEach((l, c) => body.push(svgText(gridX + c * (cell + gap) + cell / 2, gridY - 5, l, { size: COL_LABEL.size, anchor: "middle", fill: "#333" })));
  rowLabels.forEach((l, r) => body.push(svgText(gridX - 8, gridY + r * (cellHeight + gap) + cellHeight / 2 + ROW_LABEL * 0.35, l, { size: ROW_LABEL, anchor: "end" })));
  body.push(svgImage(gridX, gridY, raster));
  return { svg: svgDocument(width, height, body), layout: { width, height, gridX, gridY, cell, cellHeight, gap, rows, cols, scale } };
}

export function encodeLabeledGridPng(images: Float32Array, o: LabeledGridOptions): Buffer {
  return svgToPng(labeledGrid(images, o).svg);
}

/** Writes the PNG; returns the layout (for callers that report the grid's shape). */
export async function writeLabeledGridPng(path: string, images: Float32Array, o: LabeledGridOptions): Promise<LabeledGridLayout> {
  const g = labeledGrid(images, o);
  await writeFileAtomic(path, svgToPng(g.svg));
  return g.layout;
}

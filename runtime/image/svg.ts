// SVG to PNG with resvg and the shipped font (no system fonts), and the small pieces of SVG text
// that the composed figures (sample grids, trajectory strips, montages) are written with.
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import { FONT_FAMILY, FONT_FILES } from "./fonts.js";
import { encodePng, type Raster } from "./png.js";

const RENDER: ResvgRenderOptions = {
  font: { fontFiles: [...FONT_FILES], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  // Embedded sample images are pre-scaled to whole pixels; nearest keeps them crisp anyway.
  imageRendering: 1,
  background: "white",
  logLevel: "error",
};

/** Rasterizes an SVG document at its own size, on white. */
export function svgToPng(svg: string): Buffer {
  return Buffer.from(new Resvg(svg, RENDER).render().asPng());
}

/** Text escaped for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A PNG as a data: URI, for <image href> in SVG and <img src> in HTML. */
export function pngDataUri(r: Raster | Buffer): string {
  const png = Buffer.isBuffer(r) ? r : encodePng(r);
  return `data:image/png;base64,${png.toString("base64")}`;
}

const widths = new Map<string, number>();

/** Advance width in pixels of `text` in the shipped font (measured by resvg, so layouts fit exactly). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  if (!text.trim()) return 0;
  const key = `${fontSize}|${bold ? "b" : ""}|${text}`;
  const known = widths.get(key);
  if (known !== undefined) return known;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><text x="0" y="${2 * fontSize}" font-family="${FONT_FAMILY}" font-size="${fontSize}"${bold ? ' font-weight="bold"' : ""}>${escapeXml(text)}</text></svg>`;
  const box = new Resvg(svg, RENDER).getBBox();
  const w = box ? Math.ceil(box.x + box.width) : 0;
  widths.set(key, w);
  return w;
}

export interface TextOptions {
  readonly size: number;
  readonly anchor?: "start" | "middle" | "end";
  readonly bold?: boolean;
  readonly fill?: string;
}

/** One <text> element with its baseline at y. */
export function svgText(x: number, y: number, text: string, o: TextOptions): string {
  const anchor = o.anchor && o.anchor !== "start" ? ` text-anchor="${o.anchor}"` : "";
  const bold = o.bold ? ' font-weight="bold"' : "";
  return `<text x="${x}" y="${y}" font-size="${o.size}"${anchor}${bold} fill="${o.fill ?? "#000"}">${escapeXml(text)}</text>`;
}

/** An <image> of a raster at its own pixel size. */
export function svgImage(x: number, y: number, r: Raster): string {
  return `<image x="${x}" y="${y}" width="${r.width}" height="${r.height}" style="image-rendering:pixelated" href="${pngDataUri(r)}"/>`;
}

/** A whole SVG document: white background, the shipped font for all text. */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    "</svg>",
  ].join("\n");
}

/**
 * Breaks `text` at spaces into lines at most `maxWidth` pixels wide (a longer word is cut); past
 * `maxLines` the last line ends in "…".
 */
export function wrapText(text: string, maxWidth: number, size: number, maxLines = 3): string[] {
  const fits = (s: string) => textWidth(s, size) <= maxWidth;
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length ? lines[lines.length - 1] : undefined;
    if (last !== undefined && fits(`${last} ${word}`)) {
      lines[lines.length - 1] = `${last} ${word}`;
      continue;
    }
    let rest = word;
    while (rest) {
      let n = rest.length;
      while (n > 1 && !fits(rest.slice(0, n))) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
  }
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let end = kept[maxLines - 1];
  while (end.length > 1 && !fits(`${end}…`)) end = end.slice(0, -1);
  kept[maxLines - 1] = `${end}…`;
  return kept;
}

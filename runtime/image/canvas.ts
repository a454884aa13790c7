// A minimal RGBA canvas: pixels, lines (Bresenham), rectangles and bitmap text, clipped.
import { forEachTextDot, GLYPH_HEIGHT, textCells } from "./font.js";
import type { Raster } from "./png.js";

export type Rgb = readonly [number, number, number];

export interface Clip {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export class Canvas {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([background[0], background[1], background[2], 255], i * 4);
  }

  set(x: number, y: number, c: Rgb, clip?: Clip): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    if (clip && (x < clip.x0 || x > clip.x1 || y < clip.y0 || y > clip.y1)) return;
    const i = (y * this.width + x) * 4;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }

  get(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  line(xa: number, ya: number, xb: number, yb: number, c: Rgb, clip?: Clip): void {
    // A NaN or infinite end would never be reached by the stepping below.
    if (![xa, ya, xb, yb].every(Number.isFinite)) return;
    let x = Math.round(xa);
    let y = Math.round(ya);
    const x1 = Math.round(xb);
    const y1 = Math.round(yb);
    const dx = Math.abs(x1 - x);
    const dy = -Math.abs(y1 - y);
    const sx = x < x1 ? 1 : -1;
    const sy = y < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.set(x, y, c, clip);
      if (x === x1 && y === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }

  /** Draws text with its top-left at (x, y), each font cell `scale` pixels square. */
  text(x: number, y: number, s: string, c: Rgb, scale = 2): void {
    forEachTextDot(s, (cx, cy) => this.fillRect(x + cx * scale, y + cy * scale, scale, scale, c));
  }

  textWidth(s: string, scale = 2): number {
    return textCells(s) * scale;
  }

  textHeight(scale = 2): number {
    return GLYPH_HEIGHT * scale;
  }

  raster(): Raster {
    return { width: this.width, height: this.height, channels: 4, data: this.data };
  }
}

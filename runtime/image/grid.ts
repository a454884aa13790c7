// Sample grids as pixels: a batch [N, C, H, W] (C = 1 or 3) laid out `cols` per row with a `gap`
// between images, each image optionally enlarged `scale` times (nearest); for class-conditional
// sampling pass the images class-major with cols = samples per class, so each row is one class.
// labeled-grid.ts puts labels and a caption around such a grid.
import { encodePng, writePng, type Raster } from "./png.js";

export interface GridOptions {
  readonly count: number;
  readonly channels: 1 | 3;
  readonly height: number;
  readonly width: number;
  /** Images per row; default ceil(sqrt(count)). */
  readonly cols?: number;
  /** Value range mapped to 0..255 (values outside are clamped); default [-1, 1]. */
  readonly range?: readonly [number, number];
  /** Each image pixel becomes scale x scale pixels (nearest); default 1. */
  readonly scale?: number;
  /** Pixels between images (not around the grid), after scaling; default 2. */
  readonly gap?: number;
  /** Gap colour (gray level 0-255); default 255, white, which stands out from black backgrounds. */
  readonly gapValue?: number;
}

/** Maps a value in [lo, hi] to a byte, clamping (NaN maps to 0). */
export function toByte(v: number, lo: number, hi: number): number {
  const u = (v - lo) / (hi - lo);
  return u > 0 ? (u < 1 ? Math.round(u * 255) : 255) : 0;
}

export function gridRaster(images: Float32Array, o: GridOptions): Raster {
  const { count, channels: C, height: H, width: W } = o;
  if (images.length !== count * C * H * W) {
    throw new RangeError(`image grid: ${images.length} values for ${count} images of ${C}x${H}x${W}`);
  }
  const cols = Math.max(1, Math.min(o.cols ?? Math.ceil(Math.sqrt(count)), count));
  const rows = Math.ceil(count / cols);
  const gap = o.gap ?? 2;
  const k = Math.max(1, Math.round(o.scale ?? 1));
  const [lo, hi] = o.range ?? [-1, 1];
  const [w, h] = [W * k, H * k];
  const width = cols * w + (cols - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const data = new Uint8Array(width * height * C).fill(o.gapValue ?? 255);
  for (let n = 0; n < count; n++) {
    const x0 = (n % cols) * (w + gap);
    const y0 = Math.floor(n / cols) * (h + gap);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < h; y++) {
        const src = ((n * C + c) * H + Math.floor(y / k)) * W;
        const dst = ((y0 + y) * width + x0) * C + c;
        for (let x = 0; x < w; x++) data[dst + x * C] = toByte(images[src + Math.floor(x / k)], lo, hi);
      }
    }
  }
  return { width, height, channels: C, data };
}

/** The smallest whole enlargement that makes an image's shorter side at least `px` pixels. */
export function scaleToAtLeast(height: number, width: number, px = 64): number {
  return Math.max(1, Math.ceil(px / Math.max(1, Math.min(height, width))));
}

export function encodeGridPng(images: Float32Array, o: GridOptions): Buffer {
  return encodePng(gridRaster(images, o));
}

export async function writeGridPng(path: string, images: Float32Array, o: GridOptions): Promise<void> {
  await writePng(path, gridRaster(images, o));
}

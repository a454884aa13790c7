// Sample grids: a batch [N, C, H, W] (C = 1 or 3) laid out `cols` per row with a `gap` between
// images; for class-conditional sampling pass the images class-major with cols = samples per
// class, so each row is one class.
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
  /** Pixels between images (not around the grid); default 2. */
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
  const [lo, hi] = o.range ?? [-1, 1];
  const width = cols * W + (cols - 1) * gap;
  const height = rows * H + (rows - 1) * gap;
  const data = new Uint8Array(width * height * C).fill(o.gapValue ?? 255);
  for (let n = 0; n < count; n++) {
    const x0 = (n % cols) * (W + gap);
    const y0 = Math.floor(n / cols) * (H + gap);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        const src = ((n * C + c) * H + y) * W;
        const dst = ((y0 + y) * width + x0) * C + c;
        for (let x = 0; x < W; x++) data[dst + x * C] = toByte(images[src + x], lo, hi);
      }
    }
  }
  return { width, height, channels: C, data };
}

export function encodeGridPng(images: Float32Array, o: GridOptions): Buffer {
  return encodePng(gridRaster(images, o));
}

export async function writeGridPng(path: string, images: Float32Array, o: GridOptions): Promise<void> {
  await writePng(path, gridRaster(images, o));
}

// Nearest-neighbour enlargement by an integer factor (small sample grids next to their labels).
import type { Raster } from "./png.js";

export function upscale(r: Raster, k: number): Raster {
  if (k === 1) return r;
  const width = r.width * k;
  const height = r.height * k;
  const data = new Uint8Array(width * height * r.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(y / k) * r.width + Math.floor(x / k)) * r.channels;
      data.set(r.data.subarray(src, src + r.channels), (y * width + x) * r.channels);
    }
  }
  return { width, height, channels: r.channels, data };
}

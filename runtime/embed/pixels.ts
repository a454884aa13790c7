// Sampled images as pixels for a canvas. The byte mapping is runtime/image/grid.ts's `toByte`
// (the one `unetc sample` writes PNGs with), repeated here because that module needs pngjs.

/** Maps a value in [lo, hi] to a byte, clamping (NaN maps to 0). */
export function toByte(v: number, lo = -1, hi = 1): number {
  const u = (v - lo) / (hi - lo);
  return u > 0 ? (u < 1 ? Math.round(u * 255) : 255) : 0;
}

/**
 * Image `index` of a batch [N, C, H, W] (C = 1 or 3, values in [-1, 1]) as RGBA bytes, ready
 * for `new ImageData(rgba, W, H)`.
 */
export function imageRgba(images: Float32Array, shape: readonly number[], index: number): Uint8ClampedArray<ArrayBuffer> {
  const [, C, H, W] = shape;
  if (C !== 1 && C !== 3) throw new RangeError(`cannot show ${C}-channel images (1 or 3 channels)`);
  const plane = H * W;
  const base = index * C * plane;
  const out = new Uint8ClampedArray(new ArrayBuffer(plane * 4));
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[4 * p + c] = toByte(images[base + (C === 1 ? 0 : c) * plane + p]);
    out[4 * p + 3] = 255;
  }
  return out;
}

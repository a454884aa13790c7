// PNG encoding through pngjs (a well-kept library, not a hand-written encoder) and atomic
// writes. Rasters here are 8-bit, row-major, interleaved channels.
import { existsSync, readFileSync } from "node:fs";
import { PNG, type ColorType } from "pngjs";
import { writeFileAtomic } from "../data/atomic-write.js";

export interface Raster {
  readonly width: number;
  readonly height: number;
  /** 1 = gray, 3 = RGB, 4 = RGBA. */
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array;
}

const COLOR_TYPE: Record<Raster["channels"], ColorType> = { 1: 0, 3: 2, 4: 6 };

export function encodePng(r: Raster): Buffer {
  if (r.data.length !== r.width * r.height * r.channels) {
    throw new RangeError(`encodePng: ${r.data.length} bytes for ${r.width}x${r.height}x${r.channels}`);
  }
  const png = new PNG({ width: r.width, height: r.height });
  png.data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  const colorType = COLOR_TYPE[r.channels];
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: r.channels === 4 });
}

export async function writePng(path: string, r: Raster): Promise<void> {
  await writeFileAtomic(path, encodePng(r));
}

/** A PNG file as an RGBA raster; undefined when there is no such file. */
export function readPng(path: string): Raster | undefined {
  if (!existsSync(path)) return undefined;
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
}

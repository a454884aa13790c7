// `--data DIR`: a folder with one subfolder per class, each holding .png images. Class names
// are the subfolder names in sorted (code-unit) order; label = position in that order. Images
// are decoded with pngjs (any bit depth / colour type), composited over black, converted to
// grayscale (L = 0.299 R + 0.587 G + 0.114 B, rounded) and must all have the same size.
// Files not ending in .png and names starting with '.' are ignored.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { PNG } from "pngjs";
import { DataError, type ImageDataset } from "./types.js";

const visible = (name: string): boolean => !name.startsWith(".");
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** More pixels than any training image has; a header claiming more is damaged (pngjs would allocate it). */
export const MAX_PNG_PIXELS = 1 << 24;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes a PNG into 8-bit grayscale (alpha composited over black). */
export function decodeGrayPng(bytes: Buffer, path: string): { width: number; height: number; pixels: Uint8Array } {
  // The IHDR size, read before decoding: pngjs allocates whatever a (damaged) header claims.
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    const w = bytes.readUInt32BE(16);
    const h = bytes.readUInt32BE(20);
    if (w * h > MAX_PNG_PIXELS) throw new DataError(`${path}: its header claims ${w}x${h} pixels, more than the ${MAX_PNG_PIXELS} a training image may have (a damaged file?)`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    throw new DataError(`${path}: not a readable PNG (${(err as Error).message})`);
  }
  const { width, height, data } = png;
  const pixels = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < pixels.length; i++, j += 4) {
    const l = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
    pixels[i] = Math.round((l * data[j + 3]) / 255);
  }
  return { width, height, pixels };
}

export async function loadPngFolder(dir: string): Promise<ImageDataset> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new DataError(`${dir}: not a folder`);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${dir}: no such folder`);
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const classNames = entries.filter((e) => e.isDirectory() && visible(e.name)).map((e) => e.name).sort(byCodeUnits);
  if (classNames.length === 0) throw new DataError(`${dir}: no class subfolders (expected one folder of .png images per class)`);

  const images: Uint8Array[] = [];
  const labels: number[] = [];
  let first: { path: string; width: number; height: number } | undefined;
  for (let label = 0; label < classNames.length; label++) {
    const classDir = join(dir, classNames[label]);
    const files = (await readdir(classDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && visible(e.name) && e.name.toLowerCase().endsWith(".png"))
      .map((e) => e.name)
      .sort(byCodeUnits);
    if (files.length === 0) throw new DataError(`${classDir}: no .png images in this class folder`);
    for (const name of files) {
      const path = join(classDir, name);
      const bytes = await readFile(path).catch((err: Error) => {
        throw new DataError(`${path}: cannot read (${err.message})`);
      });
      const img = decodeGrayPng(bytes, path);
      if (!first) first = { path, width: img.width, height: img.height };
      else if (img.width !== first.width || img.height !== first.height) {
        throw new DataError(
          `${path}: is ${img.width}x${img.height} but ${first.path} is ${first.width}x${first.height}; all images must have the same size`,
        );
      }
      images.push(img.pixels);
      labels.push(label);
    }
  }
  const { width, height } = first ?? { width: 0, height: 0 };
  const all = new Uint8Array(images.length * width * height);
  images.forEach((p, i) => all.set(p, i * width * height));
  return { images: all, labels: Int32Array.from(labels), count: images.length, channels: 1, height, width, classNames };
}

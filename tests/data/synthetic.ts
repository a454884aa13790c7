// Small made-up datasets for fast data tests.
import type { ImageDataset } from "../../runtime/data/types.js";

/** `perClass` images per class of `classes`, HxW, pixel value = (image*7 + pixel) % 256. */
export function syntheticDataset(classes: number, perClass: number, height = 4, width = 3): ImageDataset {
  const count = classes * perClass;
  const images = new Uint8Array(count * height * width);
  for (let i = 0; i < count; i++) for (let p = 0; p < height * width; p++) images[i * height * width + p] = (i * 7 + p) % 256;
  // Interleave classes (0,1,2,0,1,2,...) so per-class logic is exercised on mixed order.
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  return { images, labels, count, channels: 1, height, width, classNames: Array.from({ length: classes }, (_, c) => `class${c}`) };
}

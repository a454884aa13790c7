// Shared pieces of the training tests: a tiny spec and a small made-up dataset with class
// structure (class 0: a bright vertical bar, class 1: a bright horizontal bar, plus noise).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { checkSpec } from "../../compiler/check/check.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { ImageDataset } from "../../runtime/data/types.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import type { SpecInfo, TrainConfig } from "../../runtime/train/checkpoint.js";
import type { TrainData } from "../../runtime/train/data.js";

export const SPEC = "models/lesson/emb_unet.unet";
export const TINY = ["nfs=[4,8]", "num_layers=1", "size=8", "attn_chans=0", "classes=2"];

export function tinyModel(set: readonly string[] = TINY): ModelGraph {
  const r = checkSpec(SPEC, { set: [...set] });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.graph;
}

export function specInfo(model: ModelGraph, set: readonly string[] = TINY): SpecInfo {
  return { path: SPEC, source: "", sha256: "", sourcesSha256: "", model: model.name, overrides: [...set] };
}

/** `perClass` 8x8 images of two classes, interleaved. */
export function barDataset(perClass: number, seed = 1): ImageDataset {
  const rng = new Rng(seed);
  const n = 2 * perClass;
  const images = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    const at = 2 + rng.int(4);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const on = c === 0 ? x === at : y === at;
        images[i * 64 + y * 8 + x] = on ? 220 + rng.int(36) : rng.int(30);
      }
    }
  }
  return { images, labels, count: n, channels: 1, height: 8, width: 8, classNames: ["vertical", "horizontal"] };
}

export function barData(trainPerClass: number, testPerClass: number): TrainData {
  return { train: barDataset(trainPerClass, 1), test: barDataset(testPerClass, 2), classNames: ["vertical", "horizontal"], source: "bars" };
}

export function config(over: Partial<TrainConfig> = {}): TrainConfig {
  return { data: "bars", epochs: 3, batch: 8, lr: 1e-2, schedule: "cosine", optimizer: "adam", eps: 1e-5, beta2: 0.999, weightDecay: 0, seed: 7, ...over };
}

/** The bar dataset as a folder of PNGs (one subfolder per class), for the CLI. */
export function writeBarFolder(dir: string, perClass: number): void {
  const ds = barDataset(perClass, 3);
  for (let i = 0; i < ds.count; i++) {
    const cls = join(dir, ds.classNames[ds.labels[i]]);
    mkdirSync(cls, { recursive: true });
    const png = new PNG({ width: 8, height: 8 });
    for (let p = 0; p < 64; p++) {
      const v = ds.images[i * 64 + p];
      png.data.set([v, v, v, 255], p * 4);
    }
    writeFileSync(join(cls, `${String(i).padStart(3, "0")}.png`), PNG.sync.write(png));
  }
}

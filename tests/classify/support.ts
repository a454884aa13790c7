// Shared pieces of the classifier tests: a tiny classifier spec (given as text), a made-up dataset
// of four classes that a conv + mean_pool can tell apart (dark, bright, a vertical bar, a
// horizontal bar, each with noise), and the training options.
import { checkSpec } from "../../compiler/check/check.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { ImageDataset } from "../../runtime/data/types.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import type { SpecInfo, TrainConfig } from "../../runtime/train/checkpoint.js";
import type { TrainData } from "../../runtime/train/data.js";

export const CLASSIFIER_PATH = "tests/classify/tiny_classifier.unet";

export const CLASSIFIER_TEXT = `version 1
model tiny_classifier(classes: int = 4, width: int = 8, size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, width) as conv
  h = batchnorm(h) as norm |> relu()
  h = tap(mean_pool(h), "features")
  return linear(h, classes) as head
}
`;

export function checkedModel(text: string, set: string[] = [], path = CLASSIFIER_PATH): ModelGraph {
  const r = checkSpec(path, { text, set });
  if (!r.graph) throw new Error(renderDiagnostics(r.diagnostics));
  return r.graph;
}

export function classifierSpec(text = CLASSIFIER_TEXT, set: string[] = []): SpecInfo {
  return { path: CLASSIFIER_PATH, source: text, sha256: "", sourcesSha256: "", model: "tiny_classifier", overrides: set };
}

export const SHAPE_CLASSES = ["dark", "bright", "vertical", "horizontal"];

/** `perClass` size x size images of each of the four classes, interleaved. */
export function shapesDataset(perClass: number, seed: number, size = 8): ImageDataset {
  const rng = new Rng(seed);
  const n = 4 * perClass;
  const per = size * size;
  const images = new Uint8Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    const at = 2 + rng.int(size - 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = c === 1 || (c === 2 && x === at) || (c === 3 && y === at);
        images[i * per + y * size + x] = on ? 200 + rng.int(56) : rng.int(40);
      }
    }
  }
  return { images, labels, count: n, channels: 1, height: size, width: size, classNames: SHAPE_CLASSES };
}

export function shapesData(trainPerClass: number, testPerClass: number): TrainData {
  return { train: shapesDataset(trainPerClass, 1), test: shapesDataset(testPerClass, 2), classNames: SHAPE_CLASSES, source: "shapes" };
}

export function trainConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  return { data: "shapes", epochs: 4, batch: 8, lr: 0.1, schedule: "cosine", optimizer: "adam", eps: 1e-5, beta2: 0.999, weightDecay: 0, seed: 5, ...over };
}

// The feature extractor behind unetc's FID and KID: the Fashion-MNIST classifier of
// models/metrics (a spec trained by `unetc train`, its weights committed beside it), compiled in
// eval mode, read at its `features` tap (the penultimate layer, as the course's FID drops the
// head). The weights file carries the spec's text, so the features do not change when the spec
// file in models/ is edited; a different weights file gives a different `id`, and cached
// reference statistics are keyed by it.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { checkSpec } from "../../compiler/check/check.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import { OUTPUT } from "../../compiler/ir/step-contract.js";
import { MODELS_DIR } from "../../compiler/front/package-root.js";
import { openRunner, type DeviceKind, type GraphRunner } from "../session/runner.js";
import { checkpointPath, CheckpointError, readCheckpoint } from "../train/checkpoint.js";
import { avgPool } from "../train/data.js";
import { asF32 } from "../train/runners.js";
import { checkpointWeights } from "../sample/sample.js";

export const CLASSIFIER_WEIGHTS = join(MODELS_DIR, "metrics", "fmnist_classifier.safetensors");
export const FEATURES_TAP = "features";

/** The classifier's input: one channel, 32x32, values in [-1, 1]. */
export interface ClassifierInput {
  readonly channels: number;
  readonly size: number;
}

/** First 16 hex digits of the weights file's SHA-256: what FID results and cached statistics are tied to. */
export async function classifierId(given: string = CLASSIFIER_WEIGHTS): Promise<string> {
  const path = existsSync(given) ? checkpointPath(given) : given; // a run folder names its checkpoint
  const bytes = await readFile(path).catch(() => {
    throw new CheckpointError(`${path}: the FID classifier's weights are missing (train them with scripts/train-classifier.sh)`);
  });
  return createHash("sha256").update(bytes).digest("hex").slice(0, 16);
}

export class FeatureExtractor {
  private constructor(
    private readonly runner: GraphRunner,
    readonly model: ModelGraph,
    readonly batch: number,
    /** First 16 hex digits of the weights file's SHA-256. */
    readonly id: string,
    readonly dim: number,
    readonly input: ClassifierInput,
  ) {}

  static async load(o: { device: DeviceKind; batch?: number; weights?: string }): Promise<FeatureExtractor> {
    const path = o.weights ?? CLASSIFIER_WEIGHTS;
    const id = await classifierId(path);
    // The committed weights predate checkpoint seals; git vouches for them, so no warning on every eval.
    const ckpt = await readCheckpoint(path, path === CLASSIFIER_WEIGHTS ? { onUnsealed: () => {} } : {});
    const s = ckpt.meta.spec;
    const r = checkSpec(s.path, { text: s.source, set: [...s.overrides], model: s.model });
    if (!r.graph || hasErrors(r.diagnostics)) throw new CheckpointError(`${path}: the classifier spec stored in it no longer checks`);
    const model = r.graph;
    if (modelTask(model) !== "classify") throw new CheckpointError(`${path}: ${model.name} is not a classifier`);
    const tap = model.nodes.find((n) => n.op === "tap" && n.attrs.name === FEATURES_TAP);
    if (!tap || tap.shape.length !== 1) throw new CheckpointError(`${path}: classifier ${model.name} has no vector tap named "${FEATURES_TAP}"`);
    const img = model.inputs.find((i) => i.kind === "image")!;
    const batch = o.batch ?? 256;
    const { runner } = await openRunner(model, { batch, mode: "eval" }, o.device);
    const { weights } = checkpointWeights(model, ckpt, false);
    for (const [name, t] of weights) runner.write(name, asF32(t));
    return new FeatureExtractor(runner, model, batch, id, tap.shape[0], { channels: img.shape[0], size: img.shape[1] });
  }

  /** Features [count, dim] of images [count, C, S, S] in [-1, 1] at the classifier's own size. */
  features(images: Float32Array, count: number): Promise<Float32Array> {
    return this.rows(images, count, FEATURES_TAP, this.dim);
  }

  /** Logits [count, K] (for checking the classifier itself). */
  logits(images: Float32Array, count: number): Promise<Float32Array> {
    return this.rows(images, count, OUTPUT, this.model.nodes[this.model.output].shape[0]);
  }

  /** One graph output, `width` values per image, over the images in compiled batches (the last one zero-padded). */
  private async rows(images: Float32Array, count: number, output: string, width: number): Promise<Float32Array> {
    const img = this.model.inputs.find((i) => i.kind === "image")!;
    const per = this.input.channels * this.input.size * this.input.size;
    if (images.length !== count * per) throw new Error(`classifier: expected ${count} images of ${per} values, got ${images.length} values`);
    const out = new Float32Array(count * width);
    const x = new Float32Array(this.batch * per);
    for (let start = 0; start < count; start += this.batch) {
      const n = Math.min(this.batch, count - start);
      x.fill(0);
      x.set(images.subarray(start * per, (start + n) * per));
      this.runner.write(img.name, { shape: [this.batch, ...img.shape], data: x });
      this.runner.run();
      out.set((await this.runner.read(output)).data.subarray(0, n * width), start * width);
    }
    return out;
  }

  destroy(): void {
    this.runner.destroy();
  }
}

/**
 * Images [count, C, S, S] -> [count, C, T, T] for a classifier of size T: nearest upsampling when
 * S divides T (a 16x16 model's samples are compared at 16x16 detail), average pooling when T
 * divides S. Reference images go through the same resize, so FID compares like with like.
 */
export function resizeForClassifier(images: Float32Array, count: number, channels: number, size: number, target: number): Float32Array {
  if (size === target) return images;
  if (target % size === 0) {
    const out = new Float32Array(count * channels * target * target);
    const f = target / size;
    for (let p = 0; p < count * channels; p++) {
      const src = p * size * size;
      const dst = p * target * target;
      for (let y = 0; y < target; y++) {
        for (let x = 0; x < target; x++) out[dst + y * target + x] = images[src + Math.floor(y / f) * size + Math.floor(x / f)];
      }
    }
    return out;
  }
  if (size % target === 0) return avgPool(images, count, channels, target, size / target, new Float32Array(count * channels * target * target));
  throw new CheckpointError(`FID needs images whose size divides or is a multiple of the classifier's ${target}x${target}; these are ${size}x${size}`);
}

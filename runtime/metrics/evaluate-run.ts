// `unetc eval`: image quality of a trained denoiser. Samples `n` images from its weights (a run's
// checkpoint, EMA weights when it has them, or a plain state_dict; a conditional model's classes in turn), maps them to the
// classifier's input, and compares the classifier's features of them with those of the
// Fashion-MNIST test split: FID (Gaussian statistics) and KID (cubic-kernel MMD), as the course.
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import { samplerSchedule, type SamplerKind } from "../diffusion/samplers.js";
import type { DeviceKind } from "../session/runner.js";
import type { ModelWeights } from "../sample/model-weights.js";
import { sampleImages, type SampleRunResult } from "../sample/sample.js";
import { CheckpointError } from "../train/checkpoint.js";
import { FeatureExtractor, resizeForClassifier } from "./classifier.js";
import { featureStats, fid } from "./fid.js";
import { kid } from "./kid.js";
import { referenceFeatures } from "./reference.js";

/** KID's smallest chunking: 4 chunks of at least 2 images. */
export const MIN_SAMPLES = 8;

export interface ImageQuality {
  readonly fid: number;
  readonly kid: number;
  /** Images evaluated and reference images. */
  readonly n: number;
  readonly referenceCount: number;
  /** The classifier's weights id and feature size. */
  readonly classifier: string;
  readonly featureDim: number;
  /** The size the images were compared at. */
  readonly size: number;
}

/** FID and KID of images [count, C, S, S] in [-1, 1] against the reference at size S. */
export async function imageQuality(fx: FeatureExtractor, images: Float32Array, count: number, channels: number, size: number, o: { cacheDir?: string; onInfo?: (line: string) => void } = {}): Promise<ImageQuality> {
  if (channels !== fx.input.channels) throw new CheckpointError(`FID takes ${fx.input.channels}-channel images (Fashion-MNIST); these have ${channels}`);
  if (count < MIN_SAMPLES) throw new CheckpointError(`FID/KID need at least ${MIN_SAMPLES} images, got ${count}`);
  const ref = await referenceFeatures(fx, size, o);
  const feats = await fx.features(resizeForClassifier(images, count, channels, size, fx.input.size), count);
  const f = fid(featureStats(feats, count, fx.dim), featureStats(ref.features, ref.count, ref.dim));
  const k = kid(feats, count, ref.features, ref.count, fx.dim);
  return { fid: f, kid: k, n: count, referenceCount: ref.count, classifier: fx.id, featureDim: fx.dim, size };
}

export interface EvalRunOptions {
  readonly n: number;
  readonly sampler: SamplerKind;
  readonly steps: number;
  readonly eta?: number;
  readonly seed: number;
  readonly device: DeviceKind;
  readonly batch?: number;
  readonly cacheDir?: string;
  /** The classifier's weights file (default: models/metrics/fmnist_classifier.safetensors). */
  readonly classifier?: string;
  readonly onInfo?: (line: string) => void;
  readonly onStep?: (i: number, total: number) => void;
}

export interface RunEvaluation {
  readonly quality: ImageQuality;
  readonly samples: SampleRunResult;
  readonly ema: boolean;
  readonly seconds: { sample: number; metrics: number };
}

export async function evaluateRun(model: ModelGraph, w: ModelWeights, o: EvalRunOptions): Promise<RunEvaluation> {
  if (modelTask(model) !== "denoise") throw new CheckpointError(`${w.path}: ${model.name} is a classifier; FID and KID rate the images of a denoiser`);
  // A plain state_dict does not say what it was trained on: the user vouches for Fashion-MNIST.
  if (w.data !== undefined && w.data !== "fashion-mnist") {
    throw new CheckpointError(`${w.path}: the run was trained on ${w.data}; FID and KID here compare with Fashion-MNIST's test images, so they only mean something for Fashion-MNIST runs`);
  }
  const img = model.inputs.find((i) => i.kind === "image")!;
  const [C, S] = img.shape;
  // Fail on a model the classifier cannot take before spending minutes sampling.
  if (o.n < MIN_SAMPLES) throw new CheckpointError(`FID/KID need at least ${MIN_SAMPLES} samples (KID splits them into 4 chunks of 2 or more), got ${o.n}`);
  const fx = await FeatureExtractor.load({ device: o.device, weights: o.classifier });
  try {
    if (C !== fx.input.channels) throw new CheckpointError(`FID takes ${fx.input.channels}-channel images (Fashion-MNIST); ${model.name} makes ${C}`);
    resizeForClassifier(new Float32Array(C * S * S), 1, C, S, fx.input.size);
    const t0 = performance.now();
    const samples = await sampleImages(model, w.weights, {
      sampler: o.sampler,
      steps: o.steps,
      eta: o.eta,
      n: o.n,
      spreadClasses: true,
      seed: o.seed,
      device: o.device,
      batch: o.batch,
      schedule: w.schedule ?? samplerSchedule(o.sampler),
      onStep: o.onStep,
    });
    const t1 = performance.now();
    const quality = await imageQuality(fx, samples.images, samples.count, C, S, { cacheDir: o.cacheDir, onInfo: o.onInfo });
    return { quality, samples, ema: w.ema, seconds: { sample: (t1 - t0) / 1000, metrics: (performance.now() - t1) / 1000 } };
  } finally {
    fx.destroy();
  }
}

// Eval loss on the held-out split: the model in eval mode (BatchNorm running statistics), every
// held-out image noised with the same t and noise at every epoch (a generator seeded from the
// run's seed alone), MSE against the target averaged over all images. Epochs therefore compare.
// A classifier's eval loss is the mean cross-entropy of its logits, with its accuracy.
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { ImageDataset } from "../data/types.js";
import { mixSeed, Rng } from "../diffusion/rng.js";
import { noisify, type ScheduleKind } from "../diffusion/schedules.js";
import { openRunner, type DeviceKind, type GraphRunner } from "../session/runner.js";
import { OUTPUT } from "../../compiler/ir/step-contract.js";
import { classificationScores } from "./classify.js";
import { fittedBatches, type Fit } from "./data.js";

/** Seeds the eval noise: mixSeed(seed, EVAL_SEED_TAG). */
export const EVAL_SEED_TAG = 0x6576616c; // "eval"

export class Evaluator {
  private constructor(
    private readonly model: ModelGraph,
    private readonly runner: GraphRunner,
    readonly batch: number,
  ) {}

  static async create(model: ModelGraph, batch: number, device: DeviceKind): Promise<Evaluator> {
    const { runner } = await openRunner(model, { batch, mode: "eval" }, device);
    return new Evaluator(model, runner, batch);
  }

  /** The eval loss over `ds` with the weights given (every param and buffer of the model), and a classifier's accuracy. */
  async evaluate(weights: ReadonlyMap<string, Tensor>, ds: ImageDataset, fit: Fit, schedule: ScheduleKind, seed: number): Promise<{ loss: number; accuracy?: number }> {
    for (const p of this.model.parameters) this.runner.write(p.name, weights.get(p.name)!);
    if (modelTask(this.model) === "classify") return this.classify(ds, fit, seed);
    return { loss: await this.denoise(ds, fit, schedule, seed) };
  }

  private async classify(ds: ImageDataset, fit: Fit, seed: number): Promise<{ loss: number; accuracy: number }> {
    const img = this.model.inputs.find((i) => i.kind === "image")!;
    const K = this.model.nodes[this.model.output].shape[0];
    const B = this.batch;
    const x = new Float32Array(B * fit.channels * fit.size * fit.size);
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const b of fittedBatches(ds, fit, { batchSize: B, seed, epoch: 0, shuffle: false, dropLast: false })) {
      const n = b.labels.length;
      x.fill(0);
      x.set(b.x0);
      this.runner.write(img.name, { shape: [B, ...img.shape], data: x });
      this.runner.run();
      const r = classificationScores((await this.runner.read(OUTPUT)).data, b.labels, n, K);
      lossSum += r.lossSum;
      correct += r.correct;
      count += n;
    }
    return count ? { loss: lossSum / count, accuracy: correct / count } : { loss: NaN, accuracy: NaN };
  }

  private async denoise(ds: ImageDataset, fit: Fit, schedule: ScheduleKind, seed: number): Promise<number> {
    const img = this.model.inputs.find((i) => i.kind === "image")!;
    const tIn = this.model.inputs.find((i) => i.kind === "timestep");
    const cIn = this.model.inputs.find((i) => i.kind === "label");
    const B = this.batch;
    const per = fit.channels * fit.size * fit.size;
    const x = new Float32Array(B * per);
    const t = new Float32Array(B);
    const c = new Int32Array(B);
    const rng = new Rng(mixSeed(seed, EVAL_SEED_TAG));
    let sum = 0;
    let count = 0;
    for (const b of fittedBatches(ds, fit, { batchSize: B, seed, epoch: 0, shuffle: false, dropLast: false })) {
      const n = b.labels.length;
      const noised = noisify(schedule, b.x0, n, rng);
      x.fill(0);
      x.set(noised.x);
      t.fill(0);
      t.set(noised.t);
      c.fill(0);
      c.set(b.labels);
      this.runner.write(img.name, { shape: [B, ...img.shape], data: x });
      if (tIn) this.runner.write(tIn.name, { shape: [B], data: t });
      if (cIn) this.runner.write(cIn.name, { shape: [B], data: c });
      this.runner.run();
      const out = (await this.runner.read(OUTPUT)).data;
      for (let i = 0; i < n * per; i++) {
        const d = out[i] - noised.target[i];
        sum += d * d;
      }
      count += n * per;
    }
    return count ? sum / count : NaN;
  }

  destroy(): void {
    this.runner.destroy();
  }
}

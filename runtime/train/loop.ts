// The training loop of `unetc train`: the lesson's recipe (LESSON.md §2) on a compiled training
// step. Per step: a seeded batch, noisify (cosine or Karras), the model's inputs and target
// written, OneCycle's lr and beta1 for this update, one run of the step graph (forward, MSE,
// backward, Adam, EMA, loss sum: all on the device). A classifier's step takes the images
// (flipped and shifted with --augment, from the same seeded generator) and one-hot labels, and
// its loss is cross-entropy; its eval adds accuracy. Every `logEvery` steps the loss sum is read
// back (the only readback in the loop) for the progress display and the metrics log. After each
// epoch: eval loss, metrics, loss plot, checkpoint. A stop request (Ctrl-C) lets the current step
// finish, then writes a checkpoint that a resumed run continues from exactly (same data order,
// same noise, same parameters bit for bit on the same device).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import { emaTargets } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { adamStateName, EMA_DECAY, emaName, isAdamState, LOSS_SUM, TARGET, type HyperParam } from "../../compiler/ir/step-contract.js";
import { writeFileAtomic } from "../data/atomic-write.js";
import { DataError } from "../data/types.js";
import { mixSeed, Rng } from "../diffusion/rng.js";
import { noisify, type NoisedBuffers } from "../diffusion/schedules.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { TensorToWrite } from "../io/safetensors.js";
import { toStateDict } from "../io/state-dict.js";
import { initParameters } from "../session/init.js";
import { openRunner, type DeviceKind } from "../session/runner.js";
import {
  CHECKPOINT_FILE,
  CheckpointError,
  expectedTensors,
  verifyTensors,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointMeta,
  type SpecInfo,
  type TrainConfig,
  type TrainPosition,
} from "./checkpoint.js";
import { augmentBatch, oneHot } from "./classify.js";
import { fitData, fittedBatches, stepsPerEpoch, type TrainData } from "./data.js";
import { Evaluator } from "./evaluate.js";
import { MetricsLog } from "./metrics.js";
import { oneCycleAt, oneCycleState, type OneCycleState } from "./onecycle.js";
import { asF32, readTensors, zeros } from "./runners.js";

/** Seeds the noise generator of a fresh run: mixSeed(seed, NOISE_SEED_TAG). */
export const NOISE_SEED_TAG = 0x6e6f6973; // "nois"
export const METRICS_FILE = "metrics.jsonl";
export const LOSS_PLOT_FILE = "loss.png";
export const CONFIG_FILE = "config.json";

export interface ProgressEvent {
  /** 1-based epoch and the run's epoch count. */
  readonly epoch: number;
  readonly epochs: number;
  /** Batches of this epoch done, of `stepsInEpoch`. */
  readonly batch: number;
  readonly stepsInEpoch: number;
  readonly step: number;
  readonly totalSteps: number;
  /** Mean loss over the steps since the last event. */
  readonly loss: number;
  readonly lr: number;
  readonly stepsPerSecond: number;
  /** Seconds left in this epoch (training steps only) at the current rate. */
  readonly etaSeconds: number;
}

/** Receives the loop's progress; the CLI draws bars, tests stay silent. */
export interface TrainReporter {
  info(line: string): void;
  epochStart(epoch: number, epochs: number, stepsInEpoch: number, startBatch: number): void;
  progress(e: ProgressEvent): void;
  /** Before the eval pass of an epoch (it can take a while on a slow device). */
  evaluating?(epoch: number): void;
  epochEnd(e: { epoch: number; epochs: number; step: number; trainLoss: number; evalLoss: number | null; evalAccuracy?: number | null; seconds: number; stepsPerSecond: number }): void;
}

export const silentReporter: TrainReporter = { info: () => {}, epochStart: () => {}, progress: () => {}, epochEnd: () => {} };

export interface TrainRunOptions {
  readonly model: ModelGraph;
  readonly spec: SpecInfo;
  readonly config: TrainConfig;
  readonly data: TrainData;
  readonly device: DeviceKind;
  /** The run folder (created if needed). */
  readonly out: string;
  /** Read the loss back every N steps (default 10). */
  readonly logEvery?: number;
  /** Continue this checkpoint's run. */
  readonly resume?: Checkpoint;
  /** A fresh run's starting weights (fine-tuning; default: the layers' own initialisation). */
  readonly initWeights?: ReadonlyMap<string, Tensor>;
  readonly reporter?: TrainReporter;
  /** Checked after every step: true stops the run there (as Ctrl-C does) with a checkpoint. */
  readonly shouldStop?: (step: number) => boolean;
  /** Extra facts for config.json (the command line, say). */
  readonly extra?: Record<string, unknown>;
}

export interface TrainResult {
  readonly status: "completed" | "interrupted";
  readonly position: TrainPosition;
  readonly checkpoint: string;
  readonly lastTrainLoss: number | null;
  readonly lastEvalLoss: number | null;
  /** A classifier's accuracy on the held-out split after the last epoch. */
  readonly lastEvalAccuracy: number | null;
  /** Wall-clock seconds of this invocation (compile, train, eval, checkpoints). */
  readonly seconds: number;
  /** Training steps per second over this invocation (steps only). */
  readonly stepsPerSecond: number;
}

/** Everything that determines where training is (and must be restored on resume). */
function freshPosition(seed: number): TrainPosition {
  return { step: 0, epoch: 0, batchInEpoch: 0, rngState: new Rng(mixSeed(seed, NOISE_SEED_TAG)).state, epochLossSum: 0, epochLossSteps: 0 };
}

export function totalStepsOf(config: TrainConfig, data: TrainData): { perEpoch: number; total: number } {
  const perEpoch = stepsPerEpoch(data.train, config.batch);
  if (perEpoch === 0) {
    throw new DataError(`${data.source}: ${data.train.count} training images do not fill one batch of ${config.batch}; use a smaller --batch`);
  }
  return { perEpoch, total: perEpoch * config.epochs };
}

/** The checkpoint's tensors required to resume `model` with this config, verified; throws a CheckpointError listing differences. */
export function verifyResumable(model: ModelGraph, ckpt: Checkpoint): void {
  const ema = ckpt.meta.config.ema !== undefined;
  verifyTensors(ckpt.tensors, expectedTensors(model, { optimizer: true, ema, emaTargets: ema ? emaTargets(model) : [] }), `checkpoint ${ckpt.path}`);
}

export async function train(o: TrainRunOptions): Promise<TrainResult> {
  const started = performance.now();
  const { model, config, data } = o;
  const reporter = o.reporter ?? silentReporter;
  const logEvery = Math.max(1, o.logEvery ?? 10);
  const fit = fitData(model, data, config.schedule);
  const { perEpoch, total } = totalStepsOf(config, data);
  const schedule: OneCycleState = oneCycleState({ maxLr: config.lr, totalSteps: total });
  let pos = o.resume ? o.resume.meta.position : freshPosition(config.seed);
  if (o.resume) {
    verifyResumable(model, o.resume);
    const was = o.resume.meta.schedule;
    if (was.totalSteps !== schedule.totalSteps || was.maxLr !== schedule.maxLr) {
      throw new CheckpointError(
        `cannot resume ${o.resume.path}: its schedule has ${was.totalSteps} steps (max lr ${was.maxLr}) but the data and options now give ${schedule.totalSteps} (max lr ${schedule.maxLr}); the training data changed?`,
      );
    }
  }

  await mkdir(o.out, { recursive: true });
  const ckptPath = join(o.out, CHECKPOINT_FILE);
  const metrics = await MetricsLog.open(join(o.out, METRICS_FILE), o.resume ? pos.step : undefined);
  const timeBase = o.resume ? metrics.lastTime() : 0;

  const img = model.inputs.find((i) => i.kind === "image")!;
  const tIn = model.inputs.find((i) => i.kind === "timestep");
  const cIn = model.inputs.find((i) => i.kind === "label");
  const B = config.batch;
  const useEma = config.ema !== undefined;
  const emaNames = useEma ? emaTargets(model) : [];

  reporter.info(`model ${model.name}: ${data.train.count} training images (${perEpoch} steps of ${B} per epoch), ${data.test.count} held out; ${config.epochs} epochs, ${total} steps`);
  const task = modelTask(model);
  const compileStart = performance.now();
  const { compiled, runner } = await openRunner(model, { batch: B, mode: "step", optimizer: config.optimizer, lossSum: true, ema: useEma }, o.device);
  const graph = compiled.graph;
  // The optimizer's scalars, by the names the step contract gives them.
  const writeHyper = (name: HyperParam, value: number) => runner.write(name, value);
  let evaluator: Evaluator | undefined;
  if (o.device === "webgpu") reporter.info(`compiled the training step (${graph.nodes.filter((n) => !isSource(n)).length} ops) in ${((performance.now() - compileStart) / 1000).toFixed(1)} s`);

  try {
    // ---- state: fresh or from the checkpoint ----
    const sourceNames = new Set(graph.nodes.filter(isSource).map((n) => n.name));
    if (o.resume) {
      for (const [name, t] of o.resume.tensors) if (sourceNames.has(name)) runner.write(name, asF32(t));
    } else {
      const init = o.initWeights ?? initParameters(model, config.seed);
      for (const [name, t] of init) runner.write(name, t);
      for (const n of graph.nodes) if (isSource(n) && isAdamState(n.name)) runner.write(n.name, zeros(n.shape));
      for (const name of emaNames) runner.write(emaName(name), { shape: init.get(name)!.shape, data: Float32Array.from(init.get(name)!.data) });
    }
    runner.write(LOSS_SUM, zeros([]));
    writeHyper("beta2", config.beta2);
    writeHyper("eps", config.eps);
    writeHyper("weight_decay", config.weightDecay);

    const rng = new Rng(pos.rngState);
    const per = fit.channels * fit.size * fit.size;
    const buffers: NoisedBuffers = { x: new Float32Array(B * per), t: new Float32Array(B), target: new Float32Array(B * per) };
    const imgShape = [B, ...img.shape];
    const outShape = [B, ...model.nodes[model.output].shape];

    let stop = false;
    let trainSeconds = 0;
    let stepsThisRun = 0;
    let lastTrain: number | null = null;
    let lastEval: number | null = null;
    let lastAccuracy: number | null = null;
    const classes = task === "classify" ? outShape[1] : 0;
    const targetBuf = task === "classify" ? new Float32Array(B * classes) : undefined;
    let epochLossSum = pos.epochLossSum;
    let epochLossSteps = pos.epochLossSteps;

    // The loss read back since the last flush; returns the interval's mean.
    let intervalStart = performance.now();
    let intervalSteps = 0;
    let hyper = { lr: 0, beta1: 0 };
    const flush = async (epoch: number, batch: number): Promise<void> => {
      if (intervalSteps === 0) return;
      const sum = (await runner.read(LOSS_SUM)).data[0];
      runner.write(LOSS_SUM, zeros([]));
      const now = performance.now();
      const dt = (now - intervalStart) / 1000;
      trainSeconds += dt;
      const loss = sum / intervalSteps;
      const rate = intervalSteps / Math.max(dt, 1e-9);
      epochLossSum += sum;
      epochLossSteps += intervalSteps;
      lastTrain = loss;
      metrics.append({ kind: "train", epoch: epoch + 1, step: pos.step, loss, steps: intervalSteps, lr: hyper.lr, beta1: hyper.beta1, steps_per_s: rate, time_s: timeBase + trainSeconds });
      reporter.progress({
        epoch: epoch + 1,
        epochs: config.epochs,
        batch,
        stepsInEpoch: perEpoch,
        step: pos.step,
        totalSteps: total,
        loss,
        lr: hyper.lr,
        stepsPerSecond: rate,
        etaSeconds: (perEpoch - batch) / rate,
      });
      intervalSteps = 0;
      intervalStart = performance.now();
    };

    const saveCheckpoint = async (): Promise<void> => {
      const names = [...model.parameters.map((p) => p.name)];
      for (const p of model.parameters) if (p.kind === "param") names.push(adamStateName("m", p.name), adamStateName("v", p.name));
      for (const n of emaNames) names.push(emaName(n));
      const read = await readTensors(runner, names);
      // The model's own tensors as PyTorch stores them (counters I64); Adam and EMA state F32.
      const tensors = new Map<string, TensorToWrite>(read);
      for (const [name, t] of toStateDict(model, read)) tensors.set(name, t);
      const meta: CheckpointMeta = {
        spec: o.spec,
        config,
        position: pos,
        schedule,
        classNames: data.classNames,
        modelConfig: model.config,
        device: o.device,
      };
      await writeCheckpoint(ckptPath, tensors, meta);
    };

    if (!o.resume) {
      await writeFileAtomic(
        join(o.out, CONFIG_FILE),
        new TextEncoder().encode(JSON.stringify({ spec: { ...o.spec, source: undefined, files: o.spec.files?.map((f) => ({ key: f.key, path: f.path, sha256: f.sha256 })) }, config, data: { source: data.source, train: data.train.count, test: data.test.count, classes: data.classNames, fit }, device: o.device, schedule, ...o.extra }, null, 2) + "\n"),
      );
    }

    for (let epoch = pos.epoch; epoch < config.epochs && !stop; epoch++) {
      const epochStart = performance.now();
      const startBatch = epoch === pos.epoch ? pos.batchInEpoch : 0;
      reporter.epochStart(epoch + 1, config.epochs, perEpoch, startBatch);
      intervalStart = performance.now();
      let batchDone = startBatch;
      for (const b of fittedBatches(data.train, fit, { batchSize: B, seed: config.seed, epoch, startBatch })) {
        if (task === "classify") {
          if (config.augment) augmentBatch(b.x0, B, fit.channels, fit.size, fit.range[0], rng);
          runner.write(img.name, { shape: imgShape, data: b.x0 });
          runner.write(TARGET, { shape: outShape, data: oneHot(b.labels, classes, targetBuf!) });
        } else {
          const noised = noisify(config.schedule, b.x0, B, rng, buffers);
          runner.write(img.name, { shape: imgShape, data: noised.x });
          if (tIn) runner.write(tIn.name, { shape: [B], data: noised.t });
          if (cIn) runner.write(cIn.name, { shape: [B], data: b.labels });
          runner.write(TARGET, { shape: outShape, data: noised.target });
        }
        const k = pos.step + 1;
        hyper = oneCycleAt(schedule, pos.step);
        writeHyper("lr", hyper.lr);
        writeHyper("beta1", hyper.beta1);
        writeHyper("step", k);
        if (useEma) runner.write(EMA_DECAY, Math.min(config.ema!, k / (9 + k)));
        runner.run();
        batchDone = b.index + 1;
        stepsThisRun++;
        intervalSteps++;
        pos = { ...pos, step: k, batchInEpoch: batchDone, rngState: rng.state };
        stop = o.shouldStop?.(k) ?? false;
        if (k % logEvery === 0 || batchDone === perEpoch || stop) await flush(epoch, batchDone);
        if (stop) break;
      }
      const epochSeconds = (performance.now() - epochStart) / 1000;
      if (stop && batchDone < perEpoch) {
        pos = { ...pos, epochLossSum, epochLossSteps };
        break;
      }
      // ---- end of epoch: eval, metrics, plot, checkpoint ----
      const trainLoss = epochLossSteps ? epochLossSum / epochLossSteps : NaN;
      if (data.test.count > 0) {
        reporter.evaluating?.(epoch + 1);
        evaluator ??= await Evaluator.create(model, Math.min(B, data.test.count), o.device);
        const weights = await readTensors(runner, model.parameters.map((p) => p.name));
        const ev = await evaluator.evaluate(weights, data.test, fit, config.schedule, config.seed);
        lastEval = ev.loss;
        lastAccuracy = ev.accuracy ?? null;
      }
      epochLossSum = 0;
      epochLossSteps = 0;
      pos = { ...pos, epoch: epoch + 1, batchInEpoch: 0, epochLossSum: 0, epochLossSteps: 0 };
      metrics.append({
        kind: "epoch",
        epoch: epoch + 1,
        step: pos.step,
        train_loss: trainLoss,
        eval_loss: data.test.count > 0 ? lastEval : null,
        ...(lastAccuracy !== null ? { eval_accuracy: lastAccuracy } : {}),
        epoch_s: epochSeconds,
        time_s: timeBase + trainSeconds,
      });
      await metrics.plot(join(o.out, LOSS_PLOT_FILE));
      await saveCheckpoint();
      // Only now: its line says "checkpoint written", which a kill -9 before this must not make untrue.
      reporter.epochEnd({ epoch: epoch + 1, epochs: config.epochs, step: pos.step, trainLoss, evalLoss: lastEval, evalAccuracy: lastAccuracy, seconds: epochSeconds, stepsPerSecond: (perEpoch - startBatch) / Math.max(epochSeconds, 1e-9) });
    }
    if (stop && pos.batchInEpoch !== 0) {
      await metrics.plot(join(o.out, LOSS_PLOT_FILE));
      await saveCheckpoint();
    }
    const done = pos.epoch >= config.epochs;
    return {
      status: done ? "completed" : "interrupted",
      position: pos,
      checkpoint: ckptPath,
      lastTrainLoss: lastTrain,
      lastEvalLoss: lastEval,
      lastEvalAccuracy: lastAccuracy,
      seconds: (performance.now() - started) / 1000,
      stepsPerSecond: stepsThisRun / Math.max(trainSeconds, 1e-9),
    };
  } finally {
    runner.destroy();
    evaluator?.destroy();
  }
}

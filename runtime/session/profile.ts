// `unetc profile`: the training step compiled as `run-step` compiles it, its static cost model
// (compiler/compile.ts's stepCost), then warm-up steps (the first pays whatever compiling is left
// to it: none on lavapipe, runtime/webgpu/compile-ahead.ts) and K profiled steps on WebGPU that
// time every kernel (runtime/webgpu/profiler.ts). Each kernel's
// time is its median over the profiled steps; kernels are grouped by kind, phase and layer.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { stepCost, type CostTotals, type KernelCost, type MemoryReport, type OptimizerKind, type OptLevel, type TileTable } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { describeAdapter, type AdapterSummary } from "../webgpu/device.js";
import { hasTimestamps, TimestampQueryError } from "../webgpu/profiler.js";
import { Rng } from "./rng.js";
import { WebGpuRunner } from "./runner.js";
import { createStepSession, syntheticBatch, type StepSession } from "./step-session.js";

export interface ProfileOptions {
  batch: number;
  /** Profiled steps (each kernel's median over them). */
  steps: number;
  /** Unprofiled steps first: a first step is slower (memory touched for the first time; shaders, where the driver compiles late). */
  warmup: number;
  seed: number;
  optimizer: OptimizerKind;
  lr: number;
  opt: OptLevel;
  /** GEMM tiles in place of the device's tuned ones (runtime/session/tune.ts). */
  tiles?: TileTable;
}

export interface KernelTiming extends KernelCost {
  /** Median GPU time over the profiled steps. */
  readonly ms: number;
  /** Of the kernels' summed time. */
  readonly share: number;
}

export interface ProfileGroup {
  readonly key: string;
  readonly kernels: number;
  readonly ms: number;
  readonly share: number;
  readonly flops: number;
  readonly bytes: number;
  /** null where the group took no measurable time. */
  readonly gflops: number | null;
  readonly gbps: number | null;
}

export interface ProfileTiming {
  readonly warmup: number;
  readonly steps: number;
  /** Wall time of each warm-up step (unprofiled: one pass, no timestamps). */
  readonly warmupMs: readonly number[];
  /** Wall time of each profiled step (one pass per kernel, so a little slower). */
  readonly profiledMs: readonly number[];
  /** The kernels' median times summed: the step's GPU time. */
  readonly kernelMs: number;
  /** The loss of every step run, warm-up first. */
  readonly losses: readonly number[];
  readonly kernels: readonly KernelTiming[];
  readonly byKind: readonly ProfileGroup[];
  readonly byPhase: readonly ProfileGroup[];
  readonly byLayer: readonly ProfileGroup[];
}

export interface Profile {
  readonly model: string;
  readonly batch: number;
  readonly opt: OptLevel;
  readonly optimizer: OptimizerKind;
  /** describeAdapter's lines: adapter, features, limits. */
  readonly adapter: string;
  readonly adapterInfo: AdapterSummary;
  readonly graphOps: number;
  readonly compileMs: number;
  readonly totals: CostTotals;
  readonly memory: MemoryReport;
  /** Absent when the adapter cannot time kernels (see `unavailable`). */
  readonly timing?: ProfileTiming;
  readonly unavailable?: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Kernels summed per key, longest first. */
export function groupBy(kernels: readonly KernelTiming[], key: (k: KernelTiming) => string): ProfileGroup[] {
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const groups = new Map<string, { kernels: number; ms: number; flops: number; bytes: number }>();
  for (const k of kernels) {
    const g = groups.get(key(k)) ?? { kernels: 0, ms: 0, flops: 0, bytes: 0 };
    g.kernels++;
    g.ms += k.ms;
    g.flops += k.flops;
    g.bytes += k.bytesRead + k.bytesWritten;
    groups.set(key(k), g);
  }
  return [...groups]
    .map(([k, g]) => ({ key: k, ...g, share: total > 0 ? g.ms / total : 0, ...rates(g.flops, g.bytes, g.ms) }))
    .sort((a, b) => b.ms - a.ms || b.flops - a.flops);
}

const rates = (flops: number, bytes: number, ms: number) => ({ gflops: ms > 0 ? flops / ms / 1e6 : null, gbps: ms > 0 ? bytes / ms / 1e6 : null });

/** Runs one step: a batch, the optimizer's scalars, the step (profiled or not); its loss and wall time. */
async function step(session: StepSession, model: ModelGraph, o: ProfileOptions, rng: Rng, n: number, run: () => Promise<number[] | undefined>) {
  session.feedBatch(syntheticBatch(model, o.batch, rng));
  session.setHyper({ lr: o.lr, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step: n });
  const t = performance.now();
  const ms = await run();
  const loss = (await session.runner.read("loss")).data[0];
  return { ms, loss, wall: performance.now() - t };
}

export async function profileStep(model: ModelGraph, o: ProfileOptions, progress: (line: string) => void): Promise<Profile> {
  const t0 = performance.now();
  const session = await createStepSession(model, { batch: o.batch, optimizer: o.optimizer, device: "webgpu", seed: o.seed, opt: o.opt, ...(o.tiles ? { tiles: o.tiles } : {}) });
  try {
    const compileMs = performance.now() - t0;
    const gpu = session.gpu!;
    const cost = stepCost(session.compiled);
    const base = {
      model: model.name,
      batch: o.batch,
      opt: o.opt,
      optimizer: o.optimizer,
      adapter: describeAdapter(gpu),
      adapterInfo: gpu.adapterInfo,
      graphOps: session.graph.nodes.filter((n) => !isSource(n)).length,
      compileMs,
      totals: cost.totals,
      memory: cost.memory,
    };
    progress(`compiled ${base.graphOps} ops into ${cost.totals.kernels} kernels in ${(compileMs / 1000).toFixed(2)} s`);
    if (!hasTimestamps(gpu)) return { ...base, unavailable: new TimestampQueryError(gpu.adapterInfo.description || gpu.adapterInfo.vendor).message };
    if (!(session.runner instanceof WebGpuRunner)) throw new Error("profileStep: the step session is not on WebGPU");
    const executor = session.runner.executor;
    const rng = new Rng(o.seed + 1);
    const losses: number[] = [];
    const warmupMs: number[] = [];
    const profiledMs: number[] = [];
    const samples: number[][] = cost.kernels.map(() => []);
    for (let n = 1; n <= o.warmup + o.steps; n++) {
      const profiled = n > o.warmup;
      const r = await step(session, model, o, rng, n, async () => (profiled ? executor.runProfiled() : (executor.run(), undefined)));
      losses.push(r.loss);
      (profiled ? profiledMs : warmupMs).push(r.wall);
      r.ms?.forEach((ms, i) => samples[i].push(ms));
      progress(`${profiled ? "profiled" : "warm-up"} step ${n}: loss ${r.loss.toFixed(6)} (${(r.wall / 1000).toFixed(3)} s)`);
    }
    const medians = samples.map(median);
    const kernelMs = medians.reduce((a, b) => a + b, 0);
    const kernels: KernelTiming[] = cost.kernels.map((k, i) => ({ ...k, ms: medians[i], share: kernelMs > 0 ? medians[i] / kernelMs : 0 }));
    const timing: ProfileTiming = {
      warmup: o.warmup,
      steps: o.steps,
      warmupMs,
      profiledMs,
      kernelMs,
      losses,
      kernels,
      byKind: groupBy(kernels, (k) => k.kind),
      byPhase: groupBy(kernels, (k) => k.phase),
      byLayer: groupBy(kernels, (k) => k.layer),
    };
    return { ...base, timing };
  } finally {
    session.runner.destroy();
  }
}

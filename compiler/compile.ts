// The compiler in one screen: check -> lower -> training step -> schedule -> memory plan, giving
// one `Compiled`. Every caller (the CLI, sessions, training, sampling, metrics, benchmarks) goes
// through here, and the executors run what it returns: they never lower, schedule or plan.
export { tileCandidates, gemmSignature } from "./wgsl/gemm.js";
export type { GemmTiles, TileTable } from "./wgsl/tiles.js";
import { checkSpec, type CheckOptions } from "./check/check.js";
import { modelTask, type ModelGraph } from "./check/model-graph.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { Graph } from "./ir/types.js";
import { lowerModel } from "./passes/lower/lower.js";
import { fuseNormActivations } from "./passes/lower/fuse-norm-act.js";
import { mergeCommonSubexpressions } from "./passes/merge-common.js";
import { joinComplementaryPads } from "./passes/join-pads.js";
import { addLoopState, buildTrainStep, emaTargets, lossForTask, type LossKind, type OptimizerKind } from "./passes/step/index.js";
import { scheduleGraph } from "./passes/schedule/schedule.js";
import { memoryReport, planMemory } from "./passes/memory-plan.js";
import { DEFAULT_LIMITS, type DeviceLimits, type MemoryReport, type Program } from "./wgsl/program.js";
import type { KernelLimits, TileTable } from "./wgsl/kernel.js";

// What the application layer (runtime/) needs from the passes, so it imports this module alone.
export { emaTargets, type LossKind, type OptimizerKind };
export { MemoryLimitError } from "./passes/memory-plan.js";
export { DEFAULT_LIMITS, type DeviceLimits, type MemoryPlan, type MemoryReport, type Program } from "./wgsl/program.js";
export { stepCost, type CostTotals, type KernelCost, type Phase, type StepCost } from "./passes/schedule/cost.js";

export type CompileMode = "eval" | "train" | "step";

/** The device a program is compiled for. */
export interface Target {
  /** Device limits; those omitted are the WebGPU spec's defaults. */
  readonly limits?: Partial<DeviceLimits>;
  /** A hardware adapter (true), or a software one such as lavapipe (false, default): decides kernel tiles. */
  readonly hardware?: boolean;
  /** The adapter's smallest subgroup where it has the subgroups feature; absent or 0: none. */
  readonly subgroupMinSize?: number;
  /** GEMM tiles tuned on this adapter (`unetc tune`, runtime/webgpu/tile-cache.ts); others get the defaults. */
  readonly tiles?: TileTable;
}

/** Optimization level: 0 turns every optimization off (to measure each against), 1 (default) all on. */
export type OptLevel = 0 | 1;
export const OPT_LEVELS: readonly OptLevel[] = [0, 1];

export interface GraphOptions extends Target {
  /** The default of every optimization switch below; a switch given explicitly wins. */
  readonly opt?: OptLevel;
  /** Fuse elementwise chains into one kernel (default: on from opt 1). */
  readonly fuse?: boolean;
  /** Attention as one fused op, forward and backward (default: on from opt 1). */
  readonly fuseAttention?: boolean;
  /** Training-mode BatchNorm as fused statistics/apply ops, forward and backward (default: on from opt 1). */
  readonly fuseBatchNorm?: boolean;
  /** LayerNorm as fused statistics/apply ops, forward and backward (default: on from opt 1). */
  readonly fuseLayerNorm?: boolean;
  /** Adam's g + wd * p built once per moment, fused into each (default: on from opt 1). */
  readonly fuseDecayedGrad?: boolean;
  /** Equal state updates (each parameter's optimizer step) as one kernel over them all (default: on with `fuse`). */
  readonly stack?: boolean;
}

export interface CompileOptions extends GraphOptions {
  readonly batch: number;
  /** Equal op nodes of the forward graph as one (passes/merge-common.ts; default: on from opt 1). */
  readonly mergeCommon?: boolean;
  /** step: a sum of two pads that place their values side by side as a concat (passes/join-pads.ts; default: on from opt 1). */
  readonly joinPads?: boolean;
  /** eval: inference (BatchNorm running statistics); train: the forward in training mode; step: forward, loss, backward, optimizer. */
  readonly mode: CompileMode;
  /** step: "adam" (default) or "adamw". */
  readonly optimizer?: OptimizerKind;
  /** step: default by the model's task (MSE for a denoiser, cross-entropy for a classifier). */
  readonly loss?: LossKind;
  /** step: sum the loss on the device (`metrics.loss_sum`, the training loop's readback). */
  readonly lossSum?: boolean;
  /** step: keep an EMA of the weights on the device (`ema.X`, decay `ema_decay`). */
  readonly ema?: boolean;
}

/** A graph compiled for a device: the program an executor runs, the limits it fits and its memory report. */
export interface CompiledGraph extends Program {
  readonly limits: DeviceLimits;
  readonly report: MemoryReport;
}

export interface Compiled extends CompiledGraph {
  readonly model: ModelGraph;
}

/** The op graph of a checked model in a mode: lowering, then (step) the training step and the loop's state. */
export function buildGraph(model: ModelGraph, o: CompileOptions): Graph {
  const fusedAttention = o.fuseAttention ?? (o.opt ?? 1) >= 1;
  const fusedBatchNorm = o.fuseBatchNorm ?? (o.opt ?? 1) >= 1;
  const fusedLayerNorm = o.fuseLayerNorm ?? (o.opt ?? 1) >= 1;
  const lowered = lowerModel(model, { batch: o.batch, mode: o.mode === "eval" ? "eval" : "train", fusedAttention, fusedBatchNorm, fusedLayerNorm });
  const fused = fusedBatchNorm ? fuseNormActivations(lowered) : lowered;
  // before the training step is built, so that a merged value's gradient is one sum, not several
  const forward = (o.mergeCommon ?? (o.opt ?? 1) >= 1) ? mergeCommonSubexpressions(fused) : fused;
  if (o.mode !== "step") return forward;
  const built = buildTrainStep(forward, { optimizer: o.optimizer ?? "adam", loss: o.loss ?? lossForTask(modelTask(model)), fuseDecayedGrad: o.fuseDecayedGrad ?? (o.opt ?? 1) >= 1 });
  const step = (o.joinPads ?? (o.opt ?? 1) >= 1) ? joinComplementaryPads(built) : built;
  return addLoopState(step, { lossSum: o.lossSum ?? false, ema: o.ema ? emaTargets(model) : [] });
}

export function compile(model: ModelGraph, o: CompileOptions): Compiled {
  return { ...compileGraph(buildGraph(model, o), o), model };
}

/** What the WGSL templates see of a target (benchmarks that call templates directly use it too). */
export function kernelLimits(t: Target): KernelLimits {
  const limits: DeviceLimits = { ...DEFAULT_LIMITS, ...t.limits };
  return { maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension, hardware: t.hardware ?? false, subgroupMinSize: t.subgroupMinSize ?? 0, ...(t.tiles ? { tiles: t.tiles } : {}) };
}

/** The back half alone (schedule, memory plan), for graphs built by hand. */
export function compileGraph(graph: Graph, o: GraphOptions = {}): CompiledGraph {
  const limits: DeviceLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const on = (o.opt ?? 1) >= 1;
  const kernels = scheduleGraph(graph, kernelLimits(o), {
    fuse: o.fuse ?? on,
    stack: o.stack ?? o.fuse ?? on,
    maxBindings: limits.maxStorageBuffersPerShaderStage,
    alignment: limits.minStorageBufferOffsetAlignment,
    maxRunBytes: Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
  });
  const plan = planMemory(graph, kernels, limits);
  return { graph, kernels, plan, limits, report: memoryReport(plan) };
}

/** From the spec's text: its diagnostics, and the compiled model when it checks. */
export function compileSpec(path: string, check: CheckOptions, o: CompileOptions): { diagnostics: Diagnostic[]; compiled?: Compiled } {
  const r = checkSpec(path, check);
  if (!r.graph || hasErrors(r.diagnostics)) return { diagnostics: r.diagnostics };
  return { diagnostics: r.diagnostics, compiled: compile(r.graph, o) };
}

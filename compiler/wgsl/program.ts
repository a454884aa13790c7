// What an executor runs: the graph, its kernels in dispatch order, and the memory plan that
// places every value in a GPU buffer. compiler/compile.ts makes one; runtime/webgpu only creates
// the pipelines, buffers and bind groups it describes (it never schedules or plans itself).
import type { Graph, ValueId } from "../ir/types.js";
import type { KernelSource } from "./kernel.js";

/** The device limits the schedule and the memory plan are shaped by (GPUSupportedLimits' names). */
export interface DeviceLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly minStorageBufferOffsetAlignment: number;
}

/** The WebGPU spec's default limits: what every adapter offers at least. */
export const DEFAULT_LIMITS: DeviceLimits = {
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
  minStorageBufferOffsetAlignment: 256,
};

export interface ScheduledKernel {
  /** The value the kernel writes (its root). */
  readonly output: ValueId;
  /**
   * Values it writes besides `output` (a multi-output elementwise kernel: schedule.ts), bound
   * after it in this order; absent where there are none. `kernelWrites` lists all.
   */
  readonly extraOutputs?: readonly ValueId[];
  /** The values it reads, in binding order. */
  readonly inputs: readonly ValueId[];
  readonly source: KernelSource;
  /** Graph nodes the kernel computes (more than one when fused). */
  readonly nodes: readonly ValueId[];
  readonly label: string;
}

/** Every value a kernel writes, in binding order (after its inputs). */
export const kernelWrites = (k: ScheduledKernel): readonly ValueId[] => (k.extraOutputs?.length ? [k.output, ...k.extraOutputs] : [k.output]);

/** Where one value lives: a whole transient buffer (`slot`), or a range of a persistent arena. */
export type Placement =
  | { readonly kind: "slot"; readonly index: number; readonly size: number }
  | { readonly kind: "arena"; readonly index: number; readonly offset: number; readonly size: number };

/** The plan's numbers, in bytes. */
export interface MemoryReport {
  /** Sources and constants (parameters, buffers, optimizer and EMA state, inputs), packed and aligned. */
  readonly persistentBytes: number;
  /** All transient buffers the plan allocates (>= peakLiveBytes: size classes). */
  readonly allocatedBytes: number;
  /** Transient values alive at the worst moment. */
  readonly peakLiveBytes: number;
  /** What one transient buffer per value (no reuse) would allocate. */
  readonly naiveBytes: number;
  /** persistentBytes + allocatedBytes: what the executor allocates for the graph. */
  readonly totalBytes: number;
}

export interface MemoryPlan extends MemoryReport {
  /** The transient buffer (an index into `slots`) of every kernel output, aliases included. */
  readonly slotOf: ReadonlyMap<ValueId, number>;
  /** Sizes of the transient buffers. */
  readonly slots: readonly number[];
  /** Sizes of the persistent arenas (each within the device's largest binding). */
  readonly arenas: readonly number[];
  /** Persistent values that are no source (fill, constant): the executor computes them once on the host. */
  readonly constants: readonly ValueId[];
  /** Every value that has storage (kernel outputs, sources, constants and their aliases). */
  readonly placement: ReadonlyMap<ValueId, Placement>;
}

export interface Program {
  readonly graph: Graph;
  readonly kernels: readonly ScheduledKernel[];
  readonly plan: MemoryPlan;
}

// What an executor runs: the graph, its kernels in dispatch order, and the memory plan that
// places every value in a GPU buffer. compiler/compile.ts makes one; runtime/webgpu only creates
// the pipelines, buffers and bind groups it describes (it never schedules or plans itself).
import type { Graph, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { replacedSource } from "../ir/step-contract.js";
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
  /**
   * Several equal kernels run as one (schedule/stack.ts): `inputs`, `output` and `extraOutputs`
   * are the first member's, `nodes` every member's.
   */
  readonly stack?: KernelStack;
}

/**
 * The members of a stacked kernel. Per binding (inputs, then writes): one value all members
 * share (a scalar), or one value per member, laid end to end in one buffer at `offsets` (a run,
 * memory-plan.ts), so that the binding covers them all and the flat loop runs over the lot.
 */
export interface KernelStack {
  readonly bindings: readonly (readonly ValueId[])[];
  /** Each member's byte offset in every run (aligned to minStorageBufferOffsetAlignment). */
  readonly offsets: readonly number[];
  /** Bytes of a run: the last member's offset and size. */
  readonly bytes: number;
  /**
   * Writes made in place, [new value, the source it replaces]: the source's run is bound once,
   * read and written (the kernel reads the source through its output binding), the new value
   * lives where the source does, and no state copy follows.
   */
  readonly inPlace?: readonly (readonly [ValueId, ValueId])[];
}

/** The values a kernel's bindings hold, in binding order: its inputs, then its writes (the first member's, for a stack). */
export const kernelBindings = (k: ScheduledKernel): readonly ValueId[] => [...k.inputs, k.output, ...(k.extraOutputs ?? [])];

/** Every value a kernel writes (every member's, for a stack). */
export function kernelWrites(k: ScheduledKernel): readonly ValueId[] {
  if (k.stack) return k.stack.bindings.slice(k.inputs.length).flat();
  return k.extraOutputs?.length ? [k.output, ...k.extraOutputs] : [k.output];
}

/** Every value a kernel reads (every member's, for a stack, and the sources it writes in place), each once. */
export function kernelReads(k: ScheduledKernel): readonly ValueId[] {
  if (!k.stack) return [...new Set(k.inputs)];
  return [...new Set([...k.stack.bindings.slice(0, k.inputs.length).flat(), ...(k.stack.inPlace ?? []).map(([, source]) => source)])];
}

/**
 * Where one value lives: a range of a transient buffer (`slot`: at 0, or in a run), or of a
 * persistent arena.
 */
export interface Placement {
  readonly kind: "slot" | "arena";
  readonly index: number;
  readonly offset: number;
  readonly size: number;
}

/** What each binding of a kernel covers: a value's place, or for a stacked kernel's run the whole run. */
export function bindingPlaces(k: ScheduledKernel, plan: MemoryPlan): Placement[] {
  const place = (id: ValueId): Placement => {
    const p = plan.placement.get(id);
    if (!p) throw new Error(`internal: %${id} has no placement in the memory plan`);
    return p;
  };
  if (!k.stack) return kernelBindings(k).map(place);
  const bytes = k.stack.bytes;
  return k.stack.bindings.map((values) => (values.length === 1 ? place(values[0]) : { ...place(values[0]), size: bytes }));
}

/** Each `new.X` output of the graph whose source X it has: the value, and the source it replaces next step. */
export function stateReplacements(graph: Graph): Array<{ value: ValueId; source: ValueId }> {
  const sources = new Map<string, ValueId>();
  for (const n of graph.nodes) if (isSource(n)) sources.set(n.name, n.id);
  return graph.outputs.flatMap((o) => {
    const source = sources.get(replacedSource(o.name) ?? "");
    return source === undefined ? [] : [{ value: o.value, source }];
  });
}

/** Each replacing value's source, by value (null where one value replaces several sources). */
export function replacedSources(graph: Graph): Map<ValueId, ValueId | null> {
  const replaces = new Map<ValueId, ValueId | null>();
  for (const { value, source } of stateReplacements(graph)) replaces.set(value, replaces.has(value) && replaces.get(value) !== source ? null : source);
  return replaces;
}

/**
 * The copies after a step: each `new.X` output over its source X where they lie apart (not
 * where a stack wrote it in place). Copies out of a run (a stack's writes that replace no
 * source they read) that lie end to end in the same order at both places become one copy,
 * padding and all.
 */
export function stateCopies(graph: Graph, plan: MemoryPlan): Array<{ from: Placement; to: Placement }> {
  const copies: Array<{ from: Placement; to: Placement }> = [];
  for (const { value, source } of stateReplacements(graph)) {
    const from = plan.placement.get(value);
    const to = plan.placement.get(source);
    if (!from || !to || samePlace(from, to)) continue;
    copies.push({ from, to });
  }
  // Only copies out of transient buffers are reordered: no copy writes one.
  const fromSlots = copies.filter((c) => c.from.kind === "slot").sort((a, b) => a.from.index - b.from.index || a.from.offset - b.from.offset);
  const merged: Array<{ from: Placement; to: Placement }> = [];
  for (const c of fromSlots) {
    const last = merged[merged.length - 1];
    const gap = last && c.from.offset - (last.from.offset + last.from.size);
    if (last && last.from.index === c.from.index && last.to.kind === c.to.kind && last.to.index === c.to.index && gap >= 0 && gap < plan.alignment && c.to.offset - (last.to.offset + last.to.size) === gap) {
      const size = c.from.offset + c.from.size - last.from.offset;
      merged[merged.length - 1] = { from: { ...last.from, size }, to: { ...last.to, size } };
    } else merged.push(c);
  }
  return [...copies.filter((c) => c.from.kind !== "slot"), ...merged];
}

const samePlace = (a: Placement, b: Placement): boolean => a.kind === b.kind && a.index === b.index && a.offset === b.offset;

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
  /** The offset alignment every value starts at (minStorageBufferOffsetAlignment). */
  readonly alignment: number;
}

export interface Program {
  readonly graph: Graph;
  readonly kernels: readonly ScheduledKernel[];
  readonly plan: MemoryPlan;
}

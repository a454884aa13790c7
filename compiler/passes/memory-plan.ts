// Static memory plan for one graph (tinygrad's schedule/memory.py in spirit): from each op
// output's lifetime, assign it a physical GPU buffer, reusing a buffer as soon as the last
// reader of its previous value has run. Reshapes alias their input (no copy, no space). Sources
// (params, buffers, data inputs, scalars) and constants are packed into persistent arenas, each
// value aligned to the device's storage offset alignment and each arena within its largest
// binding. Every device limit comes from the caller (compile()), so the plan, its report and the
// executor's allocation are one and the same; a limit exceeded is a MemoryLimitError.
//
// Why one value per buffer rather than offsets in one arena: WebGPU forbids a buffer being bound
// writable and bound in any other way within one dispatch, even at disjoint ranges, so an op's
// output may never share a GPUBuffer with its inputs. Reusing whole buffers satisfies that by
// construction: an op's inputs are alive while it runs, so their buffers are never its output's.
import type { Graph, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { numel } from "../ir/shape.js";
import { kernelWrites, type DeviceLimits, type MemoryPlan, type MemoryReport, type Placement, type ScheduledKernel } from "../wgsl/program.js";
import { isHostValue } from "./schedule/schedule.js";
import { UserError } from "../diagnostics/user-error.js";

export type { MemoryPlan, MemoryReport };

/** A device limit the graph does not fit: the user's to fix (a smaller batch or model), not a unetc bug. */
export class MemoryLimitError extends UserError {}

/** Reshape outputs share their input's memory; the map gives each alias its root value. */
export function aliasRoot(graph: Graph): Map<ValueId, ValueId> {
  const root = new Map<ValueId, ValueId>();
  for (const n of graph.nodes) if (!isSource(n) && n.op === "reshape") root.set(n.id, root.get(n.inputs[0]) ?? n.inputs[0]);
  return root;
}

export const valueBytes = (shape: readonly number[]) => Math.max(4, numel(shape) * 4);

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** The largest buffer one binding may cover. */
const maxBindingOf = (limits: DeviceLimits) => Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);

interface Transient {
  slotOf: Map<ValueId, number>;
  slots: number[];
  peakLiveBytes: number;
  naiveBytes: number;
}

/**
 * Assigns every kernel output a buffer. Lifetimes are in kernel order: a value lives from the
 * kernel that writes it to the last kernel that reads it (graph outputs live to the end).
 */
function planTransient(graph: Graph, kernels: readonly ScheduledKernel[], roots: ReadonlyMap<ValueId, ValueId>, maxBufferBytes: number): Transient {
  const rootOf = (id: ValueId) => roots.get(id) ?? id;
  const lastUse = new Map<ValueId, number>();
  kernels.forEach((k, pos) => {
    for (const i of k.inputs) lastUse.set(rootOf(i), pos);
  });
  for (const o of graph.outputs) lastUse.set(rootOf(o.value), Infinity);

  const slots: number[] = [];
  const free: number[] = []; // slot indices, unsorted
  const slotOf = new Map<ValueId, number>();
  const dying = new Map<number, ValueId[]>();
  let live = 0;
  let peak = 0;
  let naive = 0;

  const take = (bytes: number): number => {
    // Best fit among free buffers that are big enough but not wastefully so.
    let best = -1;
    for (const [k, s] of free.entries()) {
      if (slots[s] >= bytes && slots[s] <= 2 * bytes && (best < 0 || slots[s] < slots[free[best]])) best = k;
    }
    if (best >= 0) return free.splice(best, 1)[0];
    slots.push(bytes);
    return slots.length - 1;
  };

  kernels.forEach((k, pos) => {
    for (const id of kernelWrites(k)) {
      const n = graph.nodes[id];
      const bytes = valueBytes(n.shape);
      if (bytes > maxBufferBytes) {
        throw new MemoryLimitError(`a tensor of ${bytes} bytes (${k.label} %${n.id}${n.label ? `, ${n.label}` : ""}) exceeds the device's maxStorageBufferBindingSize (${maxBufferBytes} bytes); use a smaller batch`);
      }
      naive += bytes;
      slotOf.set(n.id, take(bytes));
      live += bytes;
      peak = Math.max(peak, live);
      const end = lastUse.get(n.id) ?? pos; // a value nobody reads dies at once
      if (end !== Infinity) dying.set(end, [...(dying.get(end) ?? []), n.id]);
    }
    // Values whose last reader is this kernel free their buffer after its outputs have theirs.
    for (const id of dying.get(pos) ?? []) {
      free.push(slotOf.get(id)!);
      live -= valueBytes(graph.nodes[id].shape);
    }
    dying.delete(pos);
  });
  for (const [alias, root] of roots) {
    const s = slotOf.get(root);
    if (s !== undefined) slotOf.set(alias, s);
  }
  return { slotOf, slots, peakLiveBytes: peak, naiveBytes: naive };
}

/** Sources and constants, packed in graph order into arenas of at most one binding each. */
function packPersistent(graph: Graph, limits: DeviceLimits): { offsets: Map<ValueId, { arena: number; offset: number }>; arenas: number[] } {
  const maxBinding = maxBindingOf(limits);
  const offsets = new Map<ValueId, { arena: number; offset: number }>();
  const arenas: number[] = [];
  for (const n of graph.nodes) {
    if (!isHostValue(n)) continue;
    const bytes = align(valueBytes(n.shape), limits.minStorageBufferOffsetAlignment);
    if (bytes > maxBinding) throw new MemoryLimitError(`\`${isSource(n) ? n.name : `constant %${n.id}`}\` (${bytes} bytes) exceeds maxStorageBufferBindingSize (${maxBinding} bytes)`);
    if (arenas.length === 0 || arenas[arenas.length - 1] + bytes > maxBinding) arenas.push(0);
    const arena = arenas.length - 1;
    offsets.set(n.id, { arena, offset: arenas[arena] });
    arenas[arena] += bytes;
  }
  return { offsets, arenas };
}

/** The whole plan: transient buffers, persistent arenas, every value's place, and the report. */
export function planMemory(graph: Graph, kernels: readonly ScheduledKernel[], limits: DeviceLimits): MemoryPlan {
  const roots = aliasRoot(graph);
  const t = planTransient(graph, kernels, roots, maxBindingOf(limits));
  const p = packPersistent(graph, limits);
  const maxBindings = limits.maxStorageBuffersPerShaderStage;
  for (const k of kernels) {
    const bindings = k.inputs.length + kernelWrites(k).length;
    if (bindings > maxBindings) {
      throw new MemoryLimitError(`${k.label} %${k.output} needs ${bindings} storage buffers, more than the device's maxStorageBuffersPerShaderStage (${maxBindings})`);
    }
  }
  const placement = new Map<ValueId, Placement>();
  for (const n of graph.nodes) {
    const root = roots.get(n.id) ?? n.id;
    const size = valueBytes(n.shape);
    const slot = t.slotOf.get(root);
    const at = p.offsets.get(root);
    if (slot !== undefined) placement.set(n.id, { kind: "slot", index: slot, size });
    else if (at) placement.set(n.id, { kind: "arena", index: at.arena, offset: at.offset, size });
  }
  const allocatedBytes = t.slots.reduce((a, b) => a + b, 0);
  const persistentBytes = p.arenas.reduce((a, b) => a + b, 0);
  return {
    slotOf: t.slotOf,
    slots: t.slots,
    arenas: p.arenas,
    constants: graph.nodes.filter((n) => isHostValue(n) && !isSource(n)).map((n) => n.id),
    placement,
    persistentBytes,
    allocatedBytes,
    peakLiveBytes: t.peakLiveBytes,
    naiveBytes: t.naiveBytes,
    totalBytes: persistentBytes + allocatedBytes,
  };
}

/** The plan's numbers alone (for reports and JSON). */
export function memoryReport(plan: MemoryReport): MemoryReport {
  const { persistentBytes, allocatedBytes, peakLiveBytes, naiveBytes, totalBytes } = plan;
  return { persistentBytes, allocatedBytes, peakLiveBytes, naiveBytes, totalBytes };
}

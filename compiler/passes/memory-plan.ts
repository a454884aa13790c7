// Static memory plan for one graph (tinygrad's schedule/memory.py in spirit): from each op
// output's lifetime, assign it a physical GPU buffer, reusing a buffer as soon as the last
// reader of its previous value has run. Reshapes alias their input (no copy, no space). Sources
// (params, buffers, data inputs, scalars) and constants live in separate persistent storage.
//
// Why one value per buffer rather than offsets in one arena: WebGPU forbids a buffer being bound
// writable and bound in any other way within one dispatch, even at disjoint ranges, so an op's
// output may never share a GPUBuffer with its inputs. Reusing whole buffers satisfies that by
// construction: an op's inputs are alive while it runs, so their buffers are never its output's.
import type { Graph, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { numel } from "../ir/shape.js";
import type { ScheduledKernel } from "./schedule/schedule.js";

export interface MemoryPlan {
  /** The physical buffer (an index into `slots`) of every transient value, aliases included. */
  slotOf: Map<ValueId, number>;
  /** Sizes in bytes of the physical buffers. */
  slots: number[];
  /** Bytes of transient values alive at the worst moment. */
  peakLiveBytes: number;
  /** Bytes of all transient buffers the plan allocates (>= peakLiveBytes: size classes). */
  allocatedBytes: number;
  /** What one buffer per value (no reuse) would allocate. */
  naiveBytes: number;
}

export class MemoryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

/** Reshape outputs share their input's memory; the map gives each alias its root value. */
export function aliasRoot(graph: Graph): Map<ValueId, ValueId> {
  const root = new Map<ValueId, ValueId>();
  for (const n of graph.nodes) if (!isSource(n) && n.op === "reshape") root.set(n.id, root.get(n.inputs[0]) ?? n.inputs[0]);
  return root;
}

/** Sources and constants: written from the host, never by a kernel. */
export function isPersistent(graph: Graph, id: ValueId): boolean {
  const n = graph.nodes[id];
  return isSource(n) || n.op === "fill" || n.op === "constant";
}

export const valueBytes = (shape: readonly number[]) => Math.max(4, numel(shape) * 4);

/**
 * Assigns every kernel output a buffer. Lifetimes are in kernel order: a value lives from the
 * kernel that writes it to the last kernel that reads it (graph outputs live to the end).
 */
export function planMemory(graph: Graph, kernels: readonly ScheduledKernel[], maxBufferBytes: number): MemoryPlan {
  const roots = aliasRoot(graph);
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
    const n = graph.nodes[k.output];
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
    // Values whose last reader is this kernel free their buffer after its output has one.
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
  return { slotOf, slots, peakLiveBytes: peak, allocatedBytes: slots.reduce((a, b) => a + b, 0), naiveBytes: naive };
}

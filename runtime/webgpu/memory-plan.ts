// Static memory plan for one graph (tinygrad's schedule/memory.py in spirit): every op output
// gets an offset in one of a few arenas from its lifetime, first-fit, so buffers are reused as
// soon as their last reader has run. Reshapes alias their input (no copy, no space). Sources
// (params, buffers, data inputs, scalars) and constants live in their own persistent region.
//
// Invariants: offsets are aligned to minStorageBufferOffsetAlignment; no value straddles an
// arena; an arena is at most maxStorageBufferBindingSize bytes, so any binding fits the limit.
import type { Graph, ValueId } from "../../compiler/graph/types.js";
import { isSource } from "../../compiler/graph/types.js";
import { numel } from "../../compiler/graph/shape.js";

export interface Placement {
  /** Which arena (0-based) of the plan's `arenas`. */
  arena: number;
  offset: number;
  bytes: number;
}

export interface MemoryPlan {
  /** Transient op outputs: arena placements (aliases share their root's). */
  transient: Map<ValueId, Placement>;
  /** Sizes of the transient arenas. */
  arenas: number[];
  /** Peak bytes of transient memory actually live at once. */
  peakBytes: number;
  /** Sum of every transient value's size: what no reuse would cost. */
  naiveBytes: number;
}

export interface PlanLimits {
  alignment: number;
  maxBindingSize: number;
}

export class MemoryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Values that need no arena space: sources, constants (uploaded once), and reshapes (aliases). */
export function aliasRoot(graph: Graph): Map<ValueId, ValueId> {
  const root = new Map<ValueId, ValueId>();
  for (const n of graph.nodes) if (!isSource(n) && n.op === "reshape") root.set(n.id, root.get(n.inputs[0]) ?? n.inputs[0]);
  return root;
}

export function isPersistent(graph: Graph, id: ValueId): boolean {
  const n = graph.nodes[id];
  return isSource(n) || n.op === "fill" || n.op === "constant";
}

export function planMemory(graph: Graph, limits: PlanLimits): MemoryPlan {
  const roots = aliasRoot(graph);
  const rootOf = (id: ValueId) => roots.get(id) ?? id;
  const lastUse = new Map<ValueId, number>();
  graph.nodes.forEach((n, pos) => {
    if (!isSource(n)) for (const i of n.inputs) lastUse.set(rootOf(i), pos);
  });
  for (const o of graph.outputs) lastUse.set(rootOf(o.value), Infinity);

  interface Arena {
    size: number;
    free: Array<{ offset: number; bytes: number }>;
  }
  const arenas: Arena[] = [];
  const transient = new Map<ValueId, Placement>();
  let live = 0;
  let peak = 0;
  let naive = 0;
  const frees = new Map<number, ValueId[]>();

  const allocate = (bytes: number): Placement => {
    if (bytes > limits.maxBindingSize) {
      throw new MemoryLimitError(`a ${bytes}-byte tensor exceeds the device's maxStorageBufferBindingSize (${limits.maxBindingSize} bytes); use a smaller batch`);
    }
    for (const [i, a] of arenas.entries()) {
      const slot = a.free.findIndex((f) => f.bytes >= bytes);
      if (slot >= 0) {
        const f = a.free[slot];
        const p = { arena: i, offset: f.offset, bytes };
        if (f.bytes === bytes) a.free.splice(slot, 1);
        else a.free[slot] = { offset: f.offset + bytes, bytes: f.bytes - bytes };
        return p;
      }
      if (a.size + bytes <= limits.maxBindingSize) {
        // Grow this arena at its end (absorbing a free block that touches the end).
        const tail = a.free.find((f) => f.offset + f.bytes === a.size);
        const start = tail ? tail.offset : a.size;
        if (start + bytes <= limits.maxBindingSize) {
          if (tail) a.free.splice(a.free.indexOf(tail), 1);
          a.size = start + bytes;
          return { arena: i, offset: start, bytes };
        }
      }
    }
    arenas.push({ size: bytes, free: [] });
    return { arena: arenas.length - 1, offset: 0, bytes };
  };

  const release = (p: Placement) => {
    const a = arenas[p.arena];
    a.free.push({ offset: p.offset, bytes: p.bytes });
    a.free.sort((x, y) => x.offset - y.offset);
    // Coalesce neighbours so large tensors can reuse the space of several small ones.
    for (let i = a.free.length - 2; i >= 0; i--) {
      const x = a.free[i];
      const y = a.free[i + 1];
      if (x.offset + x.bytes === y.offset) a.free.splice(i, 2, { offset: x.offset, bytes: x.bytes + y.bytes });
    }
  };

  graph.nodes.forEach((n, pos) => {
    if (!isPersistent(graph, n.id) && !roots.has(n.id)) {
      const bytes = align(Math.max(4, numel(n.shape) * 4), limits.alignment);
      naive += bytes;
      const p = allocate(bytes);
      transient.set(n.id, p);
      live += bytes;
      peak = Math.max(peak, live);
      const end = lastUse.get(n.id) ?? pos; // a value nobody reads dies at once
      if (end !== Infinity) frees.set(end, [...(frees.get(end) ?? []), n.id]);
    }
    // Inputs whose last reader is this node are free once its output has its own space.
    for (const id of frees.get(pos) ?? []) {
      release(transient.get(id)!);
      live -= transient.get(id)!.bytes;
    }
    frees.delete(pos);
  });
  for (const [alias, root] of roots) {
    const p = transient.get(root);
    if (p) transient.set(alias, p);
  }
  return { transient, arenas: arenas.map((a) => a.size), peakBytes: peak, naiveBytes: naive };
}

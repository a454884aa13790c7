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
// The one exception is a stacked kernel's runs (schedule/stack.ts): values laid end to end at the
// stack's offsets, one transient buffer (alive from the first write of a value to the last read
// of any) or a block of an arena (sources), which the stack binds whole; stack.ts admits a run
// only where no kernel would break that rule. The padding between a run's values is read and
// written by the stack alone, elementwise, so whatever it holds reaches no value.
import type { Graph, ValueId } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { kernelBindings, kernelReads, kernelWrites, replacedSources, type DeviceLimits, type MemoryPlan, type MemoryReport, type Placement, type ScheduledKernel } from "../wgsl/program.js";
import { aliasRoot, isHostValue, valueBytes } from "./storage.js";
import { UserError } from "../diagnostics/user-error.js";

export type { MemoryPlan, MemoryReport };

/** A device limit the graph does not fit: the user's to fix (a smaller batch or model), not a unetc bug. */
export class MemoryLimitError extends UserError {}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** The largest buffer one binding may cover. */
const maxBindingOf = (limits: DeviceLimits) => Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);

/** Values a stacked kernel binds as one (their roots), each at the stack's offsets. */
interface Run {
  values: ValueId[];
  offsets: readonly number[];
  bytes: number;
  /** Sources a stack writes in place: an arena of their own. */
  written: boolean;
}

/** The runs of the stacked kernels, each once (a run one stack writes may be one another reads). */
function stackRuns(kernels: readonly ScheduledKernel[], rootOf: (id: ValueId) => ValueId): Run[] {
  const runs = new Map<string, Run>();
  for (const k of kernels) {
    if (!k.stack) continue;
    k.stack.bindings.forEach((values, b) => {
      if (values.length < 2) return;
      const roots = values.map(rootOf);
      const key = roots.join(",");
      const written = (runs.get(key)?.written ?? false) || (b >= k.inputs.length && roots.some((r, j) => r !== values[j]));
      runs.set(key, { values: roots, offsets: k.stack!.offsets, bytes: k.stack!.bytes, written });
    });
  }
  return [...runs.values()];
}

/**
 * The sources that a stack's transient writes replace, as runs of their own at the same offsets,
 * so that the state copy after the step is one copy (stateCopies) rather than one per tensor.
 */
function replacedRuns(graph: Graph, kernels: readonly ScheduledKernel[], runs: readonly Run[]): Run[] {
  const replaces = replacedSources(graph);
  const taken = new Set(runs.flatMap((r) => r.values));
  const out: Run[] = [];
  for (const k of kernels) {
    if (!k.stack) continue;
    const inPlace = new Set((k.stack.inPlace ?? []).map(([w]) => w));
    for (const values of k.stack.bindings.slice(k.inputs.length)) {
      if (values.length < 2 || inPlace.has(values[0])) continue;
      const sources = values.map((v) => replaces.get(v));
      if (sources.some((src) => src === undefined || src === null || taken.has(src)) || new Set(sources).size < sources.length) continue;
      for (const src of sources) taken.add(src!);
      out.push({ values: sources as ValueId[], offsets: k.stack.offsets, bytes: k.stack.bytes, written: false });
    }
  }
  return out;
}

/** Reshape aliases, and each write a stack makes in place: its source. */
function storageRoots(graph: Graph, kernels: readonly ScheduledKernel[]): Map<ValueId, ValueId> {
  const roots = aliasRoot(graph);
  const inPlace = new Map(kernels.flatMap((k) => k.stack?.inPlace ?? []));
  for (const [alias, root] of roots) if (inPlace.has(root)) roots.set(alias, inPlace.get(root)!);
  for (const [value, source] of inPlace) roots.set(value, source);
  return roots;
}

interface Transient {
  slotOf: Map<ValueId, number>;
  /** A value's offset in its slot, where it is not 0 (runs). */
  offsetOf: Map<ValueId, number>;
  slots: number[];
  peakLiveBytes: number;
  naiveBytes: number;
}

/**
 * Assigns every kernel output a buffer. Lifetimes are in kernel order: a value lives from the
 * kernel that writes it to the last kernel that reads it (graph outputs live to the end).
 * `runs`: the stacks' runs of kernel outputs, one buffer each.
 */
function planTransient(graph: Graph, kernels: readonly ScheduledKernel[], roots: ReadonlyMap<ValueId, ValueId>, runs: readonly Run[], maxBufferBytes: number): Transient {
  const rootOf = (id: ValueId) => roots.get(id) ?? id;
  const lastUse = new Map<ValueId, number>();
  kernels.forEach((k, pos) => {
    for (const i of kernelReads(k)) lastUse.set(rootOf(i), pos);
  });
  for (const o of graph.outputs) lastUse.set(rootOf(o.value), Infinity);

  const slots: number[] = [];
  const free: number[] = []; // slot indices, unsorted
  const slotOf = new Map<ValueId, number>();
  const offsetOf = new Map<ValueId, number>();
  const dying = new Map<number, Array<{ slot: number; bytes: number }>>();
  let live = 0;
  let peak = 0;
  let naive = 0;

  // A run of kernel outputs (a stack's, memory-plan.ts's header) is one buffer, alive from the
  // first write of any of its values to the last read of any.
  const runOf = new Map<ValueId, Run>();
  for (const r of runs) {
    if (r.bytes > maxBufferBytes) throw new MemoryLimitError(`a stacked run of ${r.bytes} bytes exceeds the device's maxStorageBufferBindingSize (${maxBufferBytes} bytes)`);
    for (const id of r.values) runOf.set(id, r);
  }

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
  const hold = (bytes: number, end: number, pos: number): number => {
    const slot = take(bytes);
    naive += bytes;
    live += bytes;
    peak = Math.max(peak, live);
    const at = end === -Infinity ? pos : end; // a value nobody reads dies at once
    if (at !== Infinity) dying.set(at, [...(dying.get(at) ?? []), { slot, bytes }]);
    return slot;
  };

  kernels.forEach((k, pos) => {
    for (const id of kernelWrites(k)) {
      if (slotOf.has(id) || rootOf(id) !== id) continue; // a run's value, placed with the run; a write in place
      const run = runOf.get(id);
      if (run) {
        const slot = hold(run.bytes, Math.max(...run.values.map((v) => lastUse.get(v) ?? -Infinity)), pos);
        run.values.forEach((v, j) => {
          slotOf.set(v, slot);
          if (run.offsets[j]) offsetOf.set(v, run.offsets[j]);
        });
        continue;
      }
      const n = graph.nodes[id];
      const bytes = valueBytes(n.shape);
      if (bytes > maxBufferBytes) {
        throw new MemoryLimitError(`a tensor of ${bytes} bytes (${k.label} %${n.id}${n.label ? `, ${n.label}` : ""}) exceeds the device's maxStorageBufferBindingSize (${maxBufferBytes} bytes); use a smaller batch`);
      }
      slotOf.set(n.id, hold(bytes, lastUse.get(n.id) ?? -Infinity, pos));
    }
    // Values whose last reader is this kernel free their buffer after its outputs have theirs.
    for (const d of dying.get(pos) ?? []) {
      free.push(d.slot);
      live -= d.bytes;
    }
    dying.delete(pos);
  });
  for (const [alias, root] of roots) {
    const s = slotOf.get(root);
    if (s !== undefined) slotOf.set(alias, s);
    const o = offsetOf.get(root);
    if (o !== undefined) offsetOf.set(alias, o);
  }
  return { slotOf, offsetOf, slots, peakLiveBytes: peak, naiveBytes: naive };
}

/**
 * Sources and constants, packed in graph order into arenas of at most one binding each; a run
 * of them (a stack's parameters or moments) as one block where its first value comes.
 */
function packPersistent(graph: Graph, runs: readonly Run[], limits: DeviceLimits): { offsets: Map<ValueId, { arena: number; offset: number }>; arenas: number[] } {
  const maxBinding = maxBindingOf(limits);
  const offsets = new Map<ValueId, { arena: number; offset: number }>();
  const arenas: number[] = [];
  const runOf = new Map<ValueId, Run>();
  for (const r of runs) for (const id of r.values) runOf.set(id, r);
  let open = -1; // the arena being filled (runs written in place have arenas of their own)
  const place = (bytes: number, what: () => string): { arena: number; offset: number } => {
    if (bytes > maxBinding) throw new MemoryLimitError(`${what()} (${bytes} bytes) exceeds maxStorageBufferBindingSize (${maxBinding} bytes)`);
    if (open < 0 || arenas[open] + bytes > maxBinding) open = arenas.push(0) - 1;
    const at = { arena: open, offset: arenas[open] };
    arenas[open] += bytes;
    return at;
  };
  for (const n of graph.nodes) {
    if (!isHostValue(n) || offsets.has(n.id)) continue;
    const run = runOf.get(n.id);
    if (run) {
      const bytes = align(run.bytes, limits.minStorageBufferOffsetAlignment);
      // written in place: alone in its buffer, which its stack binds read_write while it binds others read-only
      const at = run.written ? { arena: arenas.push(bytes) - 1, offset: 0 } : place(bytes, () => `a stacked run of ${run.values.length} values`);
      run.values.forEach((id, j) => offsets.set(id, { arena: at.arena, offset: at.offset + run.offsets[j] }));
      continue;
    }
    const bytes = align(valueBytes(n.shape), limits.minStorageBufferOffsetAlignment);
    offsets.set(n.id, place(bytes, () => `\`${isSource(n) ? n.name : `constant %${n.id}`}\``));
  }
  return { offsets, arenas };
}

/** The whole plan: transient buffers, persistent arenas, every value's place, and the report. */
export function planMemory(graph: Graph, kernels: readonly ScheduledKernel[], limits: DeviceLimits): MemoryPlan {
  const roots = storageRoots(graph, kernels);
  const runs = stackRuns(kernels, (id) => roots.get(id) ?? id);
  // a run is of kernel outputs (a transient buffer) or of sources (a block of an arena)
  const ofSources = (r: Run) => r.values.every((id) => isHostValue(graph.nodes[id]));
  if (runs.some((r) => !ofSources(r) && r.values.some((id) => isHostValue(graph.nodes[id])))) throw new Error("internal: a stacked run mixes sources and kernel outputs (a unetc bug)");
  const t = planTransient(graph, kernels, roots, runs.filter((r) => !ofSources(r)), maxBindingOf(limits));
  const p = packPersistent(graph, [...runs.filter(ofSources), ...replacedRuns(graph, kernels, runs)], limits);
  const maxBindings = limits.maxStorageBuffersPerShaderStage;
  for (const k of kernels) {
    const bindings = kernelBindings(k).length;
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
    if (slot !== undefined) placement.set(n.id, { kind: "slot", index: slot, offset: t.offsetOf.get(root) ?? 0, size });
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
    alignment: limits.minStorageBufferOffsetAlignment,
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

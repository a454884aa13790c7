// Stacked state updates (horizontal fusion). The optimizer updates each parameter with a small
// elementwise kernel of its own, and so do the EMA and BatchNorm's running statistics: config S
// had 176 such kernels a step and a state copy for every tensor after it. They share their code
// (a flat loop bounded by arrayLength(&out), scalars read at 0), so kernels of one code whose
// every write is a `new.X` state output run as one: each per-tensor binding becomes a run, the
// members' values end to end at aligned offsets (the memory plan places them so), and the loop
// runs over the whole run. The padding between members is computed too and read by no one.
//
// A write that replaces the source its member reads (the parameter, a moment, a running
// statistic) is made in place: the stack binds the source's run once, read and write, and no
// state copy follows the step (the memory plan gives such a run an arena buffer of its own, so
// that nothing else in the dispatch binds that buffer). The stack runs after every kernel that
// reads those sources.
//
// A run may only be bound where WebGPU allows it: no kernel may bind a transient run writable
// together with any other binding of it (the memory plan's one-value-per-buffer rule), so a
// member whose values another kernel would bind that way stays a kernel of its own.
import type { Graph, ValueId } from "../../ir/types.js";
import { numel, shapesEqual } from "../../ir/shape.js";
import { replacedSource } from "../../ir/step-contract.js";
import type { KernelLimits } from "../../wgsl/kernel.js";
import { kernelBindings, kernelReads, kernelWrites, replacedSources, type KernelStack, type ScheduledKernel } from "../../wgsl/program.js";
import { flatGrid } from "../../wgsl/wgsl.js";
import { aliasRoot, isHostValue, valueBytes } from "../storage.js";
import { fusedKernel, isElementwise } from "./chain.js";

export interface StackOptions {
  /** minStorageBufferOffsetAlignment: where each member starts in a run. */
  readonly alignment: number;
  /** The largest binding: a run is at most this long. */
  readonly maxRunBytes: number;
  readonly limits: KernelLimits;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * A stack's runs are at most this long. The gradients' run is one buffer from the first of them
 * the backward writes, where one buffer per gradient is born only when that one is written: the
 * lesson's model (M) at batch 32 had 56 MiB more peak live as one stack, 5 MiB more in stacks of
 * at most 8 MiB a run (9 Adam kernels instead of 1), and less allocated than unstacked.
 */
export const STACK_RUN_BYTES = 8 * 2 ** 20;

/** The kernels with each set of equal state updates stacked into one, in a dependency order. */
export function stackStateUpdates(graph: Graph, kernels: readonly ScheduledKernel[], o: StackOptions): ScheduledKernel[] {
  const roots = aliasRoot(graph);
  const rootOf = (id: ValueId) => roots.get(id) ?? id;
  const stateOutputs = new Set(graph.outputs.filter((out) => replacedSource(out.name) !== undefined).map((out) => out.value));
  const place: Placing = { ...o, maxRunBytes: Math.min(o.maxRunBytes, STACK_RUN_BYTES), replaces: replacedSources(graph) };
  const candidates = new Map<string, number[]>();
  kernels.forEach((k, i) => {
    const key = stackKey(graph, k, stateOutputs);
    if (key !== undefined) candidates.set(key, [...(candidates.get(key) ?? []), i]);
  });
  // A member left out takes out the members of other stacks that read a value it reads, which
  // no candidate writes (a parameter, its gradient: the moment kernels of a parameter whose
  // update stays alone), so that the runs the stacks share stay equal.
  const candidateWrites = new Set([...candidates.values()].flat().flatMap((i) => kernelWrites(kernels[i]).map(rootOf)));
  const sharing = new Map<ValueId, number[]>();
  for (const members of candidates.values()) {
    for (const i of members) {
      const k = kernels[i];
      for (const id of k.inputs) {
        const r = rootOf(id);
        if (shapesEqual(graph.nodes[id].shape, graph.nodes[k.output].shape) && !candidateWrites.has(r)) sharing.set(r, [...(sharing.get(r) ?? []), i]);
      }
    }
  }
  const excluded = new Set<number>();
  const exclude = (i: number): void => {
    if (excluded.has(i)) return;
    excluded.add(i);
    for (const id of kernels[i].inputs) for (const j of sharing.get(rootOf(id)) ?? []) exclude(j);
  };
  for (;;) {
    const stacks = formStacks(graph, kernels, candidates, excluded, place, rootOf);
    const conflicts = runConflicts(graph, kernels, stacks, rootOf);
    if (conflicts.length === 0) return dependencyOrder(kernels, stacks, rootOf);
    for (const i of conflicts) exclude(i);
  }
}

/**
 * What kernels must share to stack (their code and their shared scalars), or undefined where
 * the kernel is no state update of a flat loop.
 */
function stackKey(graph: Graph, k: ScheduledKernel, stateOutputs: ReadonlySet<ValueId>): string | undefined {
  if (k.stack || !k.nodes.every((id) => isElementwise(graph.nodes[id]))) return undefined;
  const out = graph.nodes[k.output];
  const writes = kernelWrites(k);
  if (!writes.every((id) => stateOutputs.has(id) && shapesEqual(graph.nodes[id].shape, out.shape))) return undefined;
  // shape-free: every input the output's shape (one per member) or one element (shared)
  const pattern: string[] = [];
  for (const id of k.inputs) {
    const t = graph.nodes[id];
    if (shapesEqual(t.shape, out.shape)) pattern.push("m"); // a member's own, or (one element) maybe shared: stackOf
    else if (numel(t.shape) === 1) pattern.push(`s${id}`);
    else return undefined;
  }
  return `${pattern.join(",")}|${writes.length}|${k.source.code}`;
}

/** The options, and each state output's source (null where it replaces more than one). */
interface Placing extends StackOptions {
  readonly replaces: ReadonlyMap<ValueId, ValueId | null>;
}

interface Stack {
  /** Kernel indices, in order. */
  readonly members: readonly number[];
  readonly kernel: ScheduledKernel;
}

/**
 * Each candidate set's stacks, within STACK_RUN_BYTES a run; sets of one stay as they are. A
 * member reading a value of an earlier stack's run (the EMA of the optimizer's new parameters) is
 * stacked with the others reading that run, in its order, so that the run is the same one.
 */
function formStacks(graph: Graph, kernels: readonly ScheduledKernel[], candidates: ReadonlyMap<string, readonly number[]>, excluded: ReadonlySet<number>, o: Placing, rootOf: (id: ValueId) => ValueId): Stack[] {
  const stacks: Stack[] = [];
  const inRun = new Map<ValueId, { run: number; at: number }>();
  let runs = 0;
  for (const all of candidates.values()) {
    const groups = new Map<number, Array<{ i: number; at: number }>>();
    for (const i of all) {
      if (excluded.has(i)) continue;
      const k = kernels[i];
      const anchor = k.inputs.filter((id) => shapesEqual(graph.nodes[id].shape, graph.nodes[k.output].shape)).map((id) => inRun.get(rootOf(id))).find((a) => a !== undefined);
      const key = anchor?.run ?? -1;
      groups.set(key, [...(groups.get(key) ?? []), { i, at: anchor?.at ?? i }]);
    }
    for (const part of [...groups.values()].flatMap((group) => bySharedScalars(graph, kernels, group.sort((a, b) => a.at - b.at).map((m) => m.i)))) {
      let chunk: number[] = [];
      let bytes = 0;
      const flush = () => {
        if (chunk.length > 1) {
          const st = stackOf(graph, kernels, chunk, o);
          stacks.push(st);
          for (const values of st.kernel.stack!.bindings) {
            if (values.length < 2) continue;
            runs++;
            values.forEach((id, at) => inRun.set(rootOf(id), { run: runs, at }));
          }
        }
        chunk = [];
        bytes = 0;
      };
      for (const i of part) {
        const size = valueBytes(graph.nodes[kernels[i].output].shape);
        if (bytes + size > o.maxRunBytes) flush();
        chunk.push(i);
        bytes = align(bytes + size, o.alignment);
      }
      flush();
    }
  }
  return stacks;
}

/**
 * Members split by the one-element values they read that other members read too: such a value
 * is bound once for the stack, so members that read another one in its place (BatchNorm's batch
 * counters add a shared 1, the loss sum adds the loss) go to another stack.
 */
function bySharedScalars(graph: Graph, kernels: readonly ScheduledKernel[], members: readonly number[]): number[][] {
  const scalarAt = (i: number) => kernels[i].inputs.map((id, r) => (numel(graph.nodes[id].shape) === 1 ? `${r}:${id}` : undefined));
  const readers = new Map<string, number>();
  for (const i of members) for (const key of scalarAt(i)) if (key) readers.set(key, (readers.get(key) ?? 0) + 1);
  const parts = new Map<string, number[]>();
  for (const i of members) {
    const signature = scalarAt(i).map((key) => (key && readers.get(key)! > 1 ? key : "-")).join(",");
    parts.set(signature, [...(parts.get(signature) ?? []), i]);
  }
  return [...parts.values()];
}

function stackOf(graph: Graph, kernels: readonly ScheduledKernel[], members: readonly number[], o: Placing): Stack {
  const ks = members.map((i) => kernels[i]);
  const first = ks[0];
  const offsets: number[] = [];
  let at = 0;
  for (const k of ks) {
    at = align(at, o.alignment);
    offsets.push(at);
    at += valueBytes(graph.nodes[k.output].shape);
  }
  // one element that every member reads: bound once (a scalar of the optimizer, the 1 that
  // counts BatchNorm's batches); stackKey admits no other input that is not the output's shape
  const shared = first.inputs.map((id, r) => numel(graph.nodes[id].shape) === 1 && ks.every((k) => k.inputs[r] === id));
  // A write that replaces, in every member, the source the member reads at one input position
  // is made in place: that input is no binding of its own, the kernel reads it through the write's.
  // each member is a kernel of its own: kernelWrites lists its writes in binding order
  const inPlaceOf = kernelWrites(first).map((w, j) => {
    const r = first.inputs.findIndex((id) => id === o.replaces.get(w));
    return r >= 0 && !shared[r] && ks.every((k) => o.replaces.get(kernelWrites(k)[j]) === k.inputs[r]) ? r : -1;
  });
  const readThrough = new Set(inPlaceOf.filter((r) => r >= 0));
  const kept = first.inputs.map((_, r) => r).filter((r) => !readThrough.has(r));
  const inputs = kept.map((r) => first.inputs[r]);
  const bindings = [...kept.map((r) => (shared[r] ? [first.inputs[r]] : ks.map((k) => k.inputs[r]))), ...kernelWrites(first).map((_, j) => ks.map((k) => kernelWrites(k)[j]))];
  const inPlace = inPlaceOf.flatMap((r, j) => (r < 0 ? [] : ks.map((k) => [kernelWrites(k)[j], k.inputs[r]] as const)));
  const stack: KernelStack = { bindings, offsets, bytes: at, ...(inPlace.length ? { inPlace } : {}) };
  // Members of one element read even a shared scalar at `i`: their stack reads it at 0.
  const root = graph.nodes[first.output];
  const atZero = new Set(inputs.filter((id) => shared[first.inputs.indexOf(id)] && shapesEqual(graph.nodes[id].shape, root.shape)));
  const named = new Map(inPlaceOf.flatMap((r, j) => (r < 0 ? [] : [[first.inputs[r], j === 0 ? "out[i]" : `out${j}[i]`] as const])));
  const source = atZero.size || named.size ? fusedKernel(graph, { nodes: first.nodes, inputs, extra: first.extraOutputs ?? [] }, root, o.limits, atZero, named) : first.source;
  const kernel: ScheduledKernel = {
    ...first,
    inputs,
    source: { ...source, workgroups: flatGrid(at / 4, o.limits) },
    nodes: ks.flatMap((k) => k.nodes),
    label: `${first.label} x${ks.length}`,
    stack,
  };
  return { members, kernel };
}

/**
 * Members to leave out: those whose runs would break WebGPU's binding rule or the plan's (a
 * value in two runs, a run of sources and kernel outputs mixed, a transient run bound writable
 * beside another binding of it in one kernel).
 */
function runConflicts(graph: Graph, kernels: readonly ScheduledKernel[], stacks: readonly Stack[], aliasOf: (id: ValueId) => ValueId): number[] {
  // a write made in place lives where its source does (memory-plan.ts)
  const inPlace = new Map(stacks.flatMap((s) => s.kernel.stack!.inPlace ?? []));
  const rootOf = (id: ValueId) => inPlace.get(aliasOf(id)) ?? aliasOf(id);
  const bad = new Set<number>();
  // each root's run and its member index there, one run per distinct list of roots
  const runOf = new Map<ValueId, { run: string; stack: Stack; member: number }>();
  const runs = new Map<string, ValueId[]>();
  for (const s of stacks) {
    for (const values of s.kernel.stack!.bindings) {
      if (values.length < 2) continue;
      const roots = values.map(rootOf);
      const key = roots.join(",");
      if (runs.has(key)) continue; // another stack's run, the very same: one writes what the other reads
      runs.set(key, roots);
      const kinds = new Set(roots.map((id) => isHostValue(graph.nodes[id])));
      // a value already in another run (the EMA reading the optimizer's new parameters in
      // another order): this stack's member stays alone, the earlier stack keeps it
      roots.forEach((id, j) => {
        if (runOf.has(id) || kinds.size > 1) bad.add(s.members[j]);
        else runOf.set(id, { run: key, stack: s, member: j });
      });
    }
  }
  if (bad.size) return [...bad];
  const stacked = new Set(stacks.flatMap((s) => s.members));
  const check = (values: readonly ValueId[][], writes: number) => {
    // values: per binding, the roots it covers; bindings from `writes` on are written
    const touched = new Map<string, { count: number; written: boolean; members: Array<{ stack: Stack; member: number }> }>();
    values.forEach((vs, b) => {
      const seen = new Set<string>();
      for (const id of vs) {
        const r = runOf.get(id);
        if (!r || isHostValue(graph.nodes[id]) || seen.has(r.run)) continue;
        seen.add(r.run);
        const t = touched.get(r.run) ?? { count: 0, written: false, members: [] };
        t.count++;
        t.written ||= b >= writes;
        t.members.push(r);
        touched.set(r.run, t);
      }
    });
    for (const t of touched.values()) if (t.written && t.count > 1) for (const m of t.members) bad.add(m.stack.members[m.member]);
  };
  kernels.forEach((k, i) => {
    if (!stacked.has(i)) check(kernelBindings(k).map((id) => [rootOf(id)]), k.inputs.length);
  });
  for (const s of stacks) check(s.kernel.stack!.bindings.map((vs) => vs.map(rootOf)), s.kernel.inputs.length);
  return [...bad];
}

/**
 * The kernels with each stack in its members' place: it runs where its last member ran, and
 * every kernel still after what it reads (a stacked moment before the stacked update reading it).
 */
function dependencyOrder(kernels: readonly ScheduledKernel[], stacks: readonly Stack[], rootOf: (id: ValueId) => ValueId): ScheduledKernel[] {
  if (stacks.length === 0) return [...kernels];
  const stackOfMember = new Map<number, Stack>();
  for (const s of stacks) for (const i of s.members) stackOfMember.set(i, s);
  const items: Array<{ kernel: ScheduledKernel; at: number }> = [];
  kernels.forEach((k, i) => {
    const s = stackOfMember.get(i);
    if (!s) items.push({ kernel: k, at: i });
    else if (i === s.members[s.members.length - 1]) items.push({ kernel: s.kernel, at: i });
  });
  const writer = new Map<ValueId, number>();
  items.forEach((it, j) => {
    for (const id of kernelWrites(it.kernel)) writer.set(rootOf(id), j);
  });
  const after = items.map(() => [] as number[]);
  const waiting = items.map(() => 0);
  const edge = (from: number, to: number) => {
    after[from].push(to);
    waiting[to]++;
  };
  // a stack writing a source in place runs after every other kernel that reads the source
  const overwrittenBy = new Map<ValueId, number>();
  items.forEach((it, j) => {
    for (const [, src] of it.kernel.stack?.inPlace ?? []) overwrittenBy.set(src, j);
  });
  items.forEach((it, j) => {
    const reads = new Set(kernelReads(it.kernel).map(rootOf));
    for (const w of new Set([...reads].map((id) => writer.get(id)))) if (w !== undefined && w !== j) edge(w, j);
    for (const s of new Set([...reads].map((id) => overwrittenBy.get(id)))) if (s !== undefined && s !== j) edge(j, s);
  });
  // Kahn's algorithm, taking the earliest ready kernel first: the order stays the schedule's
  // wherever the dependencies allow it.
  const ready = items.map((_, j) => j).filter((j) => waiting[j] === 0);
  const order: ScheduledKernel[] = [];
  while (ready.length) {
    let best = 0;
    for (let r = 1; r < ready.length; r++) if (items[ready[r]].at < items[ready[best]].at) best = r;
    const j = ready.splice(best, 1)[0];
    order.push(items[j].kernel);
    for (const n of after[j]) if (--waiting[n] === 0) ready.push(n);
  }
  if (order.length !== items.length) throw new Error("internal: stacked kernels form a cycle (a unetc bug)");
  return order;
}

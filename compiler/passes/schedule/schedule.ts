// The kernel schedule of a graph: which kernels run, in what order, reading and writing which
// values. Elementwise chains fuse into one kernel (a producer whose only reader is an elementwise
// op of the same shape is computed in that op's kernel instead of going through memory), which
// cuts dispatches and memory traffic; a chain that is the only reader of a matmul or convolution
// result runs in that GEMM's store (chain.ts); a chain whose readers all lie in one later chain
// joins it, storing its value from there where the step outputs it (mergeProducers: a
// multi-output kernel); transposes that only matmuls read are read in place by them
// (foldTransposes); the forward attention stores the backward's logsumexp too; equal state
// updates (each parameter's optimizer step) run as one kernel (stack.ts); every other op
// is its own kernel. Reshapes are aliases and sources and
// constants are written from the host, so neither gets a kernel.
//
// A fused kernel whose external inputs all have the output's shape or a single element bakes no
// shape into its code (it reads arrayLength(&out)); others read their sizes from the Dims
// uniform (below 2^20 elements), so one pipeline serves every size.
import type { Graph, Node, OpNode, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import { shapesEqual } from "../../ir/shape.js";
import type { KernelLimits } from "../../wgsl/kernel.js";
import type { ScheduledKernel } from "../../wgsl/program.js";
import { boundInputs, kernelFor, type View } from "./kernel-for.js";
import { epilogueFor, EPILOGUE_OPS, fusedKernel, isElementwise } from "./chain.js";
import { attentionWithLseKernel } from "../../ops/attention-wgsl.js";
import { statsWithRowsKernel } from "../../ops/batchnorm.js";
import { isHostValue } from "../storage.js";
import { stackStateUpdates } from "./stack.js";

export type { ScheduledKernel };

export interface ScheduleOptions {
  fuse: boolean;
  /** Stack equal state updates into one kernel (stack.ts). */
  stack: boolean;
  /** Storage buffers one kernel may bind (maxStorageBuffersPerShaderStage). */
  maxBindings: number;
  /** minStorageBufferOffsetAlignment, and the largest binding: the runs of stacked kernels (stack.ts). */
  alignment: number;
  maxRunBytes: number;
}

/** An elementwise group: its nodes (ascending), the values it reads, and the roots it also stores (`mergeProducers`). */
interface Group {
  nodes: ValueId[];
  inputs: ValueId[];
  extra: ValueId[];
}

export function scheduleGraph(graph: Graph, limits: KernelLimits, opts: ScheduleOptions): ScheduledKernel[] {
  const readers = new Map<ValueId, number>();
  for (const n of graph.nodes) if (!isSource(n)) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outputs = new Set(graph.outputs.map((o) => o.value));
  // The single elementwise reader a value may be fused into, if any.
  const sole = new Map<ValueId, OpNode>();
  for (const n of graph.nodes) if (!isSource(n) && isElementwise(n)) for (const i of n.inputs) if (readers.get(i) === 1) sole.set(i, n);

  const absorbed = new Set<ValueId>();
  const kernels: ScheduledKernel[] = [];
  // Walk backwards so each group starts at its last node (its root) and pulls producers in.
  const groups = new Map<ValueId, Group>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (absorbed.has(n.id) || !isElementwise(n) || !opts.fuse) continue;
    const members: ValueId[] = [];
    const external: ValueId[] = [];
    const maxInputs = Math.max(1, Math.min(opts.maxBindings - 1, 8));
    const visit = (id: ValueId): void => {
      members.push(id);
      for (const i of (graph.nodes[id] as OpNode).inputs) {
        const p = graph.nodes[i];
        const fusable = isElementwise(p) && sole.get(i)?.id === id && !outputs.has(i) && shapesEqual(p.shape, n.shape) && !absorbed.has(i);
        if (fusable && external.length < maxInputs) {
          absorbed.add(i);
          visit(i);
        } else if (!external.includes(i)) external.push(i);
      }
    };
    visit(n.id);
    if (external.length > maxInputs) {
      // Too many bindings: fall back to one kernel per node for this group.
      for (const id of members) if (id !== n.id) absorbed.delete(id);
      continue;
    }
    groups.set(n.id, { nodes: members.sort((a, b) => a - b), inputs: external, extra: [] });
  }

  // A GEMM whose only reader is an elementwise chain of its shape computes the chain in its
  // store (chain.ts): its result never goes through memory.
  const epilogues = new Map<ValueId, OpNode>();
  if (opts.fuse) {
    for (const [root, g] of groups) {
      const gemm = g.inputs.map((i) => graph.nodes[i]).find((p): p is OpNode =>
        !isSource(p) && EPILOGUE_OPS.has(p.op) && readers.get(p.id) === 1 && !outputs.has(p.id) && shapesEqual(p.shape, graph.nodes[root].shape));
      if (!gemm || gemm.inputs.length + g.inputs.length > opts.maxBindings) continue;
      epilogues.set(root, gemm);
      absorbed.add(gemm.id);
    }
  }

  // Each op that reads a value, once.
  const readerNodes = new Map<ValueId, OpNode[]>();
  for (const n of graph.nodes) {
    if (isSource(n)) continue;
    for (const i of new Set(n.inputs)) {
      const list = readerNodes.get(i);
      if (list) list.push(n);
      else readerNodes.set(i, [n]);
    }
  }
  const merged = opts.fuse ? mergeProducers(graph, groups, epilogues, outputs, readerNodes, opts.maxBindings) : new Set<ValueId>();
  const folded = opts.fuse ? foldTransposes(graph, outputs, readerNodes) : new Map<ValueId, View>();
  // A matmul whose one reader is a transpose of its last two axes stores the transpose (a weight's gradient): matmul -> transpose.
  const storesTransposed = new Map<ValueId, ValueId>();
  if (opts.fuse) {
    for (const n of graph.nodes) {
      if (!swapsLast2(n) || folded.has(n.id)) continue;
      const m = graph.nodes[(n as OpNode).inputs[0]];
      if (!isSource(m) && m.op === "matmul" && readers.get(m.id) === 1 && !outputs.has(m.id)) storesTransposed.set(m.id, n.id);
    }
  }
  const transposeOf = new Set(storesTransposed.values());
  // The forward attention has each row's logsumexp at hand: an attention_lse of its qkv (the
  // backward's) is stored from the forward's kernel instead of passing over the keys again.
  const lseOf = new Map<ValueId, ValueId>();
  if (opts.fuse) {
    for (const n of graph.nodes) {
      if (isSource(n) || n.op !== "attention_lse") continue;
      const { heads } = n.params as { heads: number };
      const forward = (readerNodes.get(n.inputs[0]) ?? []).find((m) => m.op === "attention" && (m.params as { heads: number }).heads === heads && m.id < n.id);
      if (forward && !lseOf.has(forward.id)) lseOf.set(forward.id, n.id);
    }
  }
  const lseInForward = new Set(lseOf.values());
  // A slice of one whole row of BatchNorm's statistics (the mean or the variance, read by the
  // running statistics' update) or of its gradient's (the weight's and the bias's gradients) is
  // stored by that kernel, not copied out by one of its own.
  const rowsOf = new Map<ValueId, Array<{ row: 0 | 1; value: ValueId }>>();
  if (opts.fuse) {
    for (const n of graph.nodes) {
      if (isSource(n) || (n.op !== "batchnorm_stats" && n.op !== "batchnorm_grad_stats")) continue;
      // The gradient's rows go to the optimizer's stacked update, which keeps every gradient in
      // one run, and a kernel may bind a run writable only once (stack.ts): one row stored here.
      const most = n.op === "batchnorm_stats" ? 2 : 1;
      const found: Array<{ row: 0 | 1; value: ValueId }> = [];
      for (const r of readerNodes.get(n.id) ?? []) {
        const row = wholeRow(r, n);
        if (row !== undefined && !found.some((x) => x.row === row)) found.push({ row, value: r.id });
      }
      // in row order, so that every such kernel of a step has the same code (one pipeline)
      const rows = found.sort((a, b) => a.row - b.row).slice(0, most);
      if (rows.length) rowsOf.set(n.id, rows);
    }
  }
  const rowInStats = new Set([...rowsOf.values()].flatMap((rows) => rows.map((r) => r.value)));

  for (const n of graph.nodes) {
    if (isHostValue(n) || absorbed.has(n.id) || merged.has(n.id) || folded.has(n.id) || transposeOf.has(n.id) || lseInForward.has(n.id) || rowInStats.has(n.id) || n.op === "reshape") continue;
    const op = n as OpNode;
    const group = groups.get(n.id);
    const gemm = epilogues.get(n.id);
    if (group && gemm) {
      const rest = group.inputs.filter((i) => i !== gemm.id);
      const epilogue = epilogueFor(graph, group.nodes, rest, gemm.id, n);
      kernels.push({
        output: n.id,
        inputs: [...boundInputs(gemm, folded), ...rest],
        source: kernelFor(gemm, graph, limits, epilogue, folded),
        nodes: [gemm.id, ...group.nodes],
        label: [gemm.id, ...group.nodes].map((id) => graph.nodes[id].op).join("+"),
      });
    } else if (group || isElementwise(op)) {
      // Elementwise ops go through the fused-kernel generator even alone: it bakes no shapes
      // when it need not, so one pipeline serves every size.
      const g = group ?? { nodes: [op.id], inputs: [...new Set(op.inputs)], extra: [] };
      kernels.push({
        output: n.id,
        ...(g.extra.length ? { extraOutputs: g.extra } : {}),
        inputs: g.inputs,
        source: fusedKernel(graph, g, n, limits),
        nodes: g.nodes,
        label: g.nodes.map((id) => graph.nodes[id].op).join("+"),
      });
    } else {
      const t = storesTransposed.get(n.id);
      const lse = lseOf.get(n.id);
      const rows = rowsOf.get(n.id);
      if (rows && (op.op === "batchnorm_stats" || op.op === "batchnorm_grad_stats")) {
        const source = statsWithRowsKernel(op, op.inputs.map((i) => graph.nodes[i]), rows.map((r) => r.row), limits);
        const values = rows.map((r) => r.value);
        kernels.push({ output: n.id, extraOutputs: values, inputs: op.inputs, source, nodes: [n.id, ...values], label: `${op.op}+slice` });
      } else if (lse !== undefined) {
        const source = attentionWithLseKernel(graph.nodes[op.inputs[0]], op, graph.nodes[lse], (op.params as { heads: number }).heads, limits);
        kernels.push({ output: n.id, extraOutputs: [lse], inputs: op.inputs, source, nodes: [n.id, lse], label: "attention+lse" });
      } else if (t !== undefined) {
        kernels.push({ output: t, inputs: boundInputs(op, folded), source: kernelFor(op, graph, limits, undefined, folded, true), nodes: [n.id, t], label: "matmul+transpose" });
      } else kernels.push({ output: n.id, inputs: boundInputs(op, folded), source: kernelFor(op, graph, limits, undefined, folded), nodes: [n.id], label: op.op });
    }
  }
  return opts.stack ? stackStateUpdates(graph, kernels, { alignment: opts.alignment, maxRunBytes: opts.maxRunBytes, limits }) : kernels;
}

/** Which row (0 or 1) of the [2, C] statistics `stats` the node `r` slices out whole, if it is such a slice. */
function wholeRow(r: OpNode, stats: Node): 0 | 1 | undefined {
  if (r.op !== "slice") return undefined;
  const { starts, ends } = r.params;
  const c = stats.shape[1];
  if (starts[1] !== 0 || ends[1] !== c || ends[0] - starts[0] !== 1) return undefined;
  return starts[0] === 0 ? 0 : starts[0] === 1 ? 1 : undefined;
}

/**
 * Multi-output fusion. A group whose every reader lies in one later group of its shape, but which
 * was not fused into it (it has several readers there, or is a graph output), is computed in that
 * group's kernel instead; a graph output among them is also stored from there (`extra`). Its
 * inputs are read once with the later group's, and its value does not go through memory to be
 * read back. Adam's two moments (outputs of the step, read by the parameter's update) and the
 * update become one kernel per parameter instead of three; a norm's output and the SiLU that
 * reads it twice, one kernel. Mutates `groups`; returns the roots merged away.
 */
function mergeProducers(
  graph: Graph,
  groups: Map<ValueId, Group>,
  epilogues: ReadonlyMap<ValueId, OpNode>,
  outputs: ReadonlySet<ValueId>,
  readers: ReadonlyMap<ValueId, readonly OpNode[]>,
  maxBindings: number,
): Set<ValueId> {
  const merged = new Set<ValueId>();
  // In graph order, so a producer's own merges are done before its reader takes it in.
  for (const root of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(root)!;
    if (epilogues.has(root)) continue;
    for (const a of [...g.inputs]) {
      const ga = groups.get(a);
      if (!ga || merged.has(a) || epilogues.has(a) || !shapesEqual(graph.nodes[a].shape, graph.nodes[root].shape)) continue;
      const members = new Set(g.nodes);
      if (!(readers.get(a) ?? []).every((r) => members.has(r.id))) continue;
      const inputs = [...new Set([...g.inputs.filter((i) => i !== a), ...ga.inputs])];
      const extra = [...g.extra, ...(outputs.has(a) ? [a] : []), ...ga.extra];
      if (inputs.length + 1 + extra.length > maxBindings) continue;
      g.nodes = [...g.nodes, ...ga.nodes].sort((x, y) => x - y);
      g.inputs = inputs;
      g.extra = extra;
      groups.delete(a);
      merged.add(a);
    }
  }
  return merged;
}

/** A transpose that swaps the last two axes and keeps the others. */
function swapsLast2(n: Node): boolean {
  if (isSource(n) || n.op !== "transpose") return false;
  const { perm } = n.params as { perm: readonly number[] };
  const r = perm.length;
  return r >= 2 && perm[r - 2] === r - 1 && perm[r - 1] === r - 2 && perm.slice(0, r - 2).every((p, i) => p === i);
}

/**
 * Transposes of the last two axes that only matmuls read (directly, or through more such
 * transposes), by their value: each matmul reads the stored tensor in place (`View`: which
 * value, and whether transposed; matmulKernel), so no copy is made. Linear layers' weights, the
 * backward's transpose of a transposed weight and its operands' transposes are such: config S
 * had 120 transpose kernels a step.
 */
function foldTransposes(graph: Graph, outputs: ReadonlySet<ValueId>, readers: ReadonlyMap<ValueId, readonly OpNode[]>): Map<ValueId, View> {
  // Every reader a matmul or a transpose folded in turn (readers come later in the graph).
  const foldable = new Map<ValueId, boolean>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    const by = readers.get(n.id) ?? [];
    foldable.set(n.id, swapsLast2(n) && !outputs.has(n.id) && by.length > 0 && by.every((m) => m.op === "matmul" || foldable.get(m.id) === true));
  }
  const folded = new Map<ValueId, View>();
  for (const n of graph.nodes) {
    if (isSource(n) || !foldable.get(n.id)) continue;
    const under = folded.get(n.inputs[0]);
    folded.set(n.id, under ? { value: under.value, transposed: !under.transposed } : { value: n.inputs[0], transposed: true });
  }
  return folded;
}

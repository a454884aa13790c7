// A static cost model of a compiled program: per scheduled kernel, the arithmetic it does (FLOPs)
// and the memory it must touch (bytes read and written, each value once), plus where it came from
// (its kind, the layer and the phase of the training step). `unetc profile` sets GPU time beside
// these numbers; they are estimates from shapes alone, with no device in the loop.
import type { GemmTiles } from "../../wgsl/tiles.js";
import { numel } from "../../ir/shape.js";
import type { Graph, Node, OpNode, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import { ADAM_PREFIX, TARGET } from "../../ir/step-contract.js";
import { kernelReads, kernelWrites, stateCopies, type MemoryPlan, type MemoryReport, type ScheduledKernel } from "../../wgsl/program.js";
import { isElementwise } from "./chain.js";

/** Where in the training step a kernel belongs. */
export type Phase = "forward" | "loss" | "backward" | "optimizer" | "state";

export interface KernelCost {
  /** Dispatch index. */
  readonly index: number;
  /** The schedule's label: the op, or the fused chain (`mul+add`). */
  readonly label: string;
  /**
   * The root's op, or "elementwise" for every elementwise kernel (fused or not), so levels
   * compare; a GEMM that computes an elementwise chain in its store counts as the GEMM.
   */
  readonly kind: string;
  /** The layer path (`downs.0.resnets.1.conv1.2`); backward and optimizer kernels carry their forward layer's. */
  readonly layer: string;
  readonly phase: Phase;
  /** Graph ops the kernel computes. */
  readonly ops: number;
  readonly flops: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** GEMM kernels: what a tuner keys them by (gemmSignature) and the tiles they use. */
  readonly gemm?: { readonly signature: string; readonly tiles: GemmTiles };
}

export interface CostTotals {
  readonly kernels: number;
  /** Distinct kernel sources: the pipelines an executor creates. */
  readonly pipelines: number;
  readonly ops: number;
  readonly flops: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Kernels' bytes read + written: the traffic of one step at best (each value once). */
  readonly bytesMoved: number;
  /** Bytes the executor copies after the kernels (each `new.X` over X, read + written). */
  readonly copyBytes: number;
}

export interface StepCost {
  readonly kernels: readonly KernelCost[];
  readonly totals: CostTotals;
  readonly memory: MemoryReport;
}

/** Softmax reads each element for the max, then subtracts, exponentiates, sums and divides. */
const SOFTMAX_FLOPS_PER_ELEMENT = 5;
const BYTES_PER_ELEMENT = 4;

const bytesOf = (n: Node): number => numel(n.shape) * BYTES_PER_ELEMENT;

/** Floating-point operations of one op node (a multiply-add counts 2). */
export function opFlops(graph: Graph, n: OpNode): number {
  const shape = (i: number) => graph.nodes[n.inputs[i]].shape;
  switch (n.op) {
    case "conv2d": {
      // out [N, Co, Ho, Wo], weight [Co, Ci, kh, kw]
      const [, ci, kh, kw] = shape(1);
      return 2 * numel(n.shape) * ci * kh * kw;
    }
    case "conv2d_input_grad": {
      // g [N, Co, Ho, Wo] against weight [Co, Ci, kh, kw]: the forward's multiply-adds
      const [, ci, kh, kw] = shape(1);
      return 2 * numel(shape(0)) * ci * kh * kw;
    }
    case "conv2d_weight_grad":
    case "conv2d_weight_grad_partial": {
      // x [N, Ci, H, W], g [N, Co, Ho, Wo]: every output position against every Ci x kh x kw tap
      const [kh, kw] = n.params.kernelSize;
      return 2 * numel(shape(1)) * shape(0)[1] * kh * kw;
    }
    case "matmul": {
      const a = shape(0);
      return 2 * numel(n.shape) * a[a.length - 1];
    }
    case "reduce_sum":
    case "reduce_mean":
    case "reduce_max":
      return numel(shape(0));
    case "softmax":
      return SOFTMAX_FLOPS_PER_ELEMENT * numel(shape(0));
    case "scatter_add":
      return numel(shape(0));
    case "attention":
    case "attention_lse":
    case "attention_grad": {
      // per (query, key) pair and head, the kernels' fmas over the head's d features (an
      // attention_lse computed in the forward's kernel costs only its rows: kernelFlops)
      const [batch, s, c3] = shape(0);
      const pairs = batch * s * s * n.params.heads;
      const d = c3 / 3 / n.params.heads;
      const perPair = n.op === "attention" ? 6 * d + 3 : n.op === "attention_lse" ? 2 * d + 2 : 14 * d + 6;
      return pairs * perPair;
    }
    case "attention_stats":
      // per query row and head, g . out
      return 2 * numel(shape(1));
    // per element: the statistics 3 (shifted sum and square), apply 4, grad stats 3, input grad 7;
    // a fused SiLU adds its own (4: exp, add, divide, multiply) and, backward, y's recomputation
    // and silu' (9)
    case "batchnorm_stats":
      return 3 * numel(shape(0));
    case "batchnorm_grad_stats":
      return (3 + (n.params.act ? 9 : 0)) * numel(shape(0));
    case "batchnorm_apply":
      return (4 + (n.params.act ? 4 : 0)) * numel(shape(0));
    case "batchnorm_input_grad":
      return (7 + (n.params.act ? 9 : 0)) * numel(shape(0));
    // LayerNorm per element: statistics 4 (two passes), apply 4, parameter grad 4, input grad 10
    case "layernorm_stats":
    case "layernorm_apply":
    case "layernorm_param_grad":
      return 4 * numel(shape(0));
    case "layernorm_input_grad":
      return 10 * numel(shape(0));
    default:
      return isElementwise(n) ? numel(n.shape) : 0; // movement, gather, cast: no arithmetic
  }
}

/** Phase and layer of every node, from the labels the builder set (see attribute()). */
interface Origin {
  readonly phase: Phase;
  readonly layer: string;
}

const MODEL = "(model)";
/** Optimizer work shared by every parameter (bias corrections of the step's scalars). */
const SCALARS = "(optimizer scalars)";
/** A stacked kernel (stack.ts) updates many layers' tensors at once. */
export const STACKED = "(stacked, all layers)";

/**
 * Attributes each node to a phase and a layer without changing the graph. Forward nodes carry
 * their layer path; autodiff labels a gradient `grad <path>` (plain "backward" for the gradients
 * of unlabeled ops); optimizer nodes are traced to the parameter they update (a param source or
 * its Adam moments among their inputs, else an input gradient's layer) and given the longest
 * forward label that prefixes it.
 * Unlabeled nodes that depend on the target are the loss.
 */
export function attribute(graph: Graph): Origin[] {
  const forwardLabels = new Set<string>();
  for (const n of graph.nodes) if (n.label && !isUpdateLabel(n.label) && n.label !== "backward" && !n.label.startsWith("grad ")) forwardLabels.add(n.label);
  const layerOfParam = (name: string): string => {
    let best: string | undefined;
    for (let cut = name.lastIndexOf("."); cut > 0; cut = name.lastIndexOf(".", cut - 1)) {
      if (forwardLabels.has(name.slice(0, cut))) return name.slice(0, cut);
      best ??= name.slice(0, cut);
    }
    return best ?? name;
  };
  const param = new Map<ValueId, string>();
  const onTarget = new Set<ValueId>();
  const out: Origin[] = [];
  for (const n of graph.nodes) {
    if (isSource(n)) {
      if (n.op === "param") param.set(n.id, n.name);
      else if (n.name.startsWith(ADAM_PREFIX)) param.set(n.id, n.name.slice(ADAM_PREFIX.length + 2)); // adam.m.X -> X
      if (n.name === TARGET) onTarget.add(n.id);
      out.push({ phase: "forward", layer: n.label ?? MODEL });
      continue;
    }
    const label = n.label;
    if (label === undefined && n.inputs.some((i) => onTarget.has(i))) onTarget.add(n.id);
    if (label === "optimizer") {
      // The parameter or its moments among the inputs; else the layer of an input gradient or update.
      const p = n.inputs.map((i) => param.get(i)).find((x) => x !== undefined);
      const via = n.inputs.map((i) => out[i]).find((o) => (o.phase === "optimizer" || o.phase === "backward") && o.layer !== SCALARS && o.layer !== MODEL);
      out.push({ phase: "optimizer", layer: p !== undefined ? layerOfParam(p) : (via?.layer ?? SCALARS) });
    } else if (label !== undefined && isUpdateLabel(label)) out.push({ phase: "state", layer: label });
    else if (label === "backward") out.push({ phase: "backward", layer: MODEL });
    else if (label?.startsWith("grad ")) out.push({ phase: "backward", layer: label.slice(5) });
    else if (label === undefined && onTarget.has(n.id)) out.push({ phase: "loss", layer: "loss" });
    else out.push({ phase: "forward", layer: label ?? MODEL });
  }
  return out;
}

/** Labels of the loop state addLoopState appends (compiler/passes/step/train-graph.ts). */
const isUpdateLabel = (label: string): boolean => label === "optimizer" || label === "metrics" || label === "ema";

/**
 * A kernel's FLOPs: its nodes'. A logsumexp computed in the kernel of the attention it belongs
 * to (the schedule's attention+lse) reuses the forward's row maxima and sums: only its log and
 * add per row and head count, not another pass over the keys.
 */
function kernelFlops(graph: Graph, k: ScheduledKernel): number {
  const ops = k.nodes.map((id) => graph.nodes[id] as OpNode);
  return ops.reduce((a, n) => {
    const withForward = n.op === "attention_lse" && ops.some((m) => m.op === "attention" && m.inputs[0] === n.inputs[0]);
    return a + (withForward ? 2 * numel(n.shape) : opFlops(graph, n));
  }, 0);
}

export function kernelCosts(graph: Graph, kernels: readonly ScheduledKernel[]): KernelCost[] {
  const origin = attribute(graph);
  return kernels.map((k, index) => {
    const root = graph.nodes[k.output] as OpNode;
    const flops = kernelFlops(graph, k);
    // Each distinct input once: a reshape is an alias of its input, of the same size.
    const bytesRead = kernelReads(k).reduce((a, id) => a + bytesOf(graph.nodes[id]), 0);
    // a GEMM with its epilogue counts as the GEMM
    const head = graph.nodes[k.nodes[0]] as OpNode;
    const kind = !isElementwise(head) ? head.op : isElementwise(root) ? "elementwise" : root.op;
    const { layer: own, phase } = origin[isElementwise(head) ? k.output : head.id];
    const layer = k.stack ? STACKED : own;
    const gemm = k.source.gemm;
    const bytesWritten = kernelWrites(k).reduce((a, id) => a + bytesOf(graph.nodes[id]), 0);
    return { index, label: k.label, kind, layer, phase, ops: k.nodes.length, flops, bytesRead, bytesWritten, ...(gemm ? { gemm } : {}) };
  });
}

/** Bytes of the state copies an executor makes after the kernels (new.X over X, where they differ). */
const copyBytes = (graph: Graph, plan: MemoryPlan): number => stateCopies(graph, plan).reduce((a, c) => a + 2 * c.from.size, 0);

/** The cost model of a compiled program (compiler/compile.ts's CompiledGraph). */
export function stepCost(p: { readonly graph: Graph; readonly kernels: readonly ScheduledKernel[]; readonly plan: MemoryPlan; readonly report: MemoryReport }): StepCost {
  const kernels = kernelCosts(p.graph, p.kernels);
  const sum = (f: (k: KernelCost) => number) => kernels.reduce((a, k) => a + f(k), 0);
  const bytesRead = sum((k) => k.bytesRead);
  const bytesWritten = sum((k) => k.bytesWritten);
  const totals: CostTotals = {
    kernels: kernels.length,
    pipelines: new Set(p.kernels.map((k) => k.source.code)).size,
    ops: sum((k) => k.ops),
    flops: sum((k) => k.flops),
    bytesRead,
    bytesWritten,
    bytesMoved: bytesRead + bytesWritten,
    copyBytes: copyBytes(p.graph, p.plan),
  };
  return { kernels, totals, memory: p.report };
}

// The WGSL of a fused elementwise chain: its nodes as `let v<k>` statements over the chain's
// external inputs, read at the flat index `i` (same shape), at 0 (one element) or through
// broadcast offsets decoded from `i`. A fused elementwise kernel wraps it in a flat loop
// (schedule.ts); a GEMM epilogue wraps it in `fn epilogue(v, i)`, where the GEMM's result is
// the external input named `v`, so bias adds, scales and residual adds after a convolution or
// a matmul cost no pass over memory of their own.
import type { Graph, Node, OpNode, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import { broadcastStrides, numel, shapesEqual } from "../../ir/shape.js";
import { BINARY_KINDS, UNARY_KINDS, type BinaryKind, type UnaryKind } from "../../ir/kinds.js";
import { binaryWgslExpr } from "../../ops/binary.js";
import { unaryWgslExpr, unaryWgslHelpers } from "../../ops/unary.js";
import type { Dims } from "../../wgsl/dims.js";
import type { Epilogue, KernelLimits, KernelSource } from "../../wgsl/kernel.js";
import { bindings, flatDims, flatEntry, flatGrid, offsetsFromIndex } from "../../wgsl/wgsl.js";

/** The ops whose WGSL templates take an epilogue (the implicit GEMMs, not the split-K parts). */
export const EPILOGUE_OPS: ReadonlySet<string> = new Set(["matmul", "conv2d", "conv2d_input_grad", "conv2d_weight_grad"]);

const UNARY = new Set<string>(UNARY_KINDS);
const BINARY = new Set<string>(BINARY_KINDS);

/** An op a chain can hold: a float unary or binary op. */
export function isElementwise(n: Node): boolean {
  return !isSource(n) && n.dtype === "f32" && (UNARY.has(n.op) || BINARY.has(n.op));
}

export interface ChainWgsl {
  /** Offset decodes and `let` statements; they read `i`. */
  readonly body: string;
  /** The expression of the root's value. */
  readonly result: string;
  /** Helper functions the chain's ops need, for module scope. */
  readonly helpers: string[];
  /** Every input has the root's shape or one element: the code depends on no size. */
  readonly shapeFree: boolean;
  /** The WGSL name of every node's value and input (a multi-output kernel stores several). */
  readonly names: ReadonlyMap<ValueId, string>;
}

/**
 * The chain `nodes` (ascending, ending at `root`) over `inputs`, bound from `in<first>` on;
 * `named` gives inputs that are not bindings a WGSL name (a GEMM epilogue's `v`); `atZero`
 * inputs are read at element 0 (a stack's shared scalars).
 */
export function chainWgsl(graph: Graph, nodes: readonly ValueId[], inputs: readonly ValueId[], root: Node, dims: Dims, first: number, named = new Map<ValueId, string>(), atZero: ReadonlySet<ValueId> = new Set()): ChainWgsl {
  const ins = inputs.map((id) => graph.nodes[id]);
  const shapeFree = ins.every((t) => shapesEqual(t.shape, root.shape) || numel(t.shape) === 1);
  const name = new Map<ValueId, string>(named);
  const broadcast: number[] = [];
  ins.forEach((t, j) => {
    const b = `in${first + j}`;
    if (atZero.has(inputs[j])) name.set(inputs[j], `${b}[0]`);
    else if (shapesEqual(t.shape, root.shape) || (shapeFree && numel(t.shape) !== 1)) name.set(inputs[j], `${b}[i]`);
    else if (numel(t.shape) === 1) name.set(inputs[j], `${b}[0]`);
    else {
      broadcast.push(j);
      name.set(inputs[j], `${b}[o${first + j}]`);
    }
  });
  const helpers = new Set<string>();
  const lines: string[] = [];
  // Locals are numbered by position, not value id, so equal chains give equal code (one pipeline).
  nodes.forEach((id, k) => {
    const node = graph.nodes[id] as OpNode;
    const args = node.inputs.map((i) => name.get(i)!);
    let expr: string;
    if (UNARY.has(node.op)) {
      const kind = node.op as UnaryKind;
      const h = unaryWgslHelpers[kind];
      if (h) helpers.add(h);
      expr = `(${unaryWgslExpr[kind].replace(/\bx\b/g, args[0])})`;
    } else {
      expr = `(${binaryWgslExpr[node.op as BinaryKind].replace(/\ba\b/g, "A").replace(/\bb\b/g, args[1]).replace(/\bA\b/g, args[0])})`;
    }
    lines.push(`  let v${k} = ${expr};`);
    name.set(id, `v${k}`);
  });
  const offsets = broadcast.length
    ? offsetsFromIndex(root.shape, broadcast.map((j) => broadcastStrides(ins[j].shape, root.shape)), broadcast.map((j) => `o${first + j}`), dims)
    : "";
  return { body: [offsets, ...lines].filter(Boolean).join("\n"), result: name.get(root.id)!, helpers: [...helpers], shapeFree, names: name };
}

/** The chain as a GEMM epilogue: `gemm` (one of its inputs) is the GEMM's result `v`. */
export function epilogueFor(graph: Graph, nodes: readonly ValueId[], inputs: readonly ValueId[], gemm: ValueId, root: Node): Epilogue {
  return {
    inputs: inputs.map((id) => graph.nodes[id]),
    code: (first, dims) => {
      const chain = chainWgsl(graph, nodes, inputs, root, dims, first, new Map([[gemm, "v"]]));
      return `${chain.helpers.join("\n")}
fn epilogue(v: f32, i: u32) -> f32 {
${chain.body}
  return ${chain.result};
}`;
    },
  };
}

/**
 * A chain as a flat kernel of its own: `nodes` (ascending, ending at `root`) over `inputs`,
 * storing `root` and the `extra` values it also computes. `atZero`: inputs read at element 0
 * whatever their shape (a stack's shared scalars, stack.ts); `named`: values that are no binding,
 * read by the WGSL given (a stack's in-place source, read through its output).
 */
export function fusedKernel(
  graph: Graph,
  { nodes, inputs, extra }: { readonly nodes: readonly ValueId[]; readonly inputs: readonly ValueId[]; readonly extra: readonly ValueId[] },
  root: Node,
  limits: KernelLimits,
  atZero: ReadonlySet<ValueId> = new Set(),
  named = new Map<ValueId, string>(),
): KernelSource {
  const n = numel(root.shape);
  // sizes and strides in a uniform, so chains that differ only in shape share a pipeline
  const dims = flatDims(n);
  const chain = chainWgsl(graph, nodes, inputs, root, dims, 0, named, atZero);
  const body = [chain.body, `  out[i] = ${chain.result};`, ...extra.map((id, j) => `  out${j + 1}[i] = ${chain.names.get(id)!};`)].join("\n");
  // shape-free chains read only `i`: the output's length is their bound
  const bound = chain.shapeFree ? "arrayLength(&out)" : dims.u("n", n);
  const code = `${bindings(inputs.map((id) => graph.nodes[id]), root, extra.map((id) => graph.nodes[id]))}
${[dims.declare(inputs.length + 1 + extra.length), ...chain.helpers].filter(Boolean).join("\n")}
${flatEntry(bound, body, limits)}`;
  return { code, workgroups: flatGrid(n, limits), ...(dims.empty ? {} : { uniforms: dims.words() }) };
}

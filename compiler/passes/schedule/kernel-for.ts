// The kernel of one op node: the op's WGSL template applied to the node's concrete types.
import type { Graph, OpNode, ValueId } from "../../ir/types.js";
import { registry } from "../../ops/index.js";
import type { OpKind } from "../../ir/kinds.js";
import type { Epilogue, KernelLimits, KernelSource, KernelTemplate } from "../../wgsl/kernel.js";

export class MissingKernelError extends Error {
  constructor(readonly op: string) {
    super(`internal error: the op \`${op}\` has no WGSL kernel (a unetc bug)`);
    this.name = "MissingKernelError";
  }
}

/**
 * `epilogue`: an elementwise chain for the op's store (only the GEMM ops take one). `folded`:
 * transposes folded into their matmul readers (foldTransposes in schedule.ts), by the
 * transpose's value: such an input is bound as the tensor it views, read transposed or not.
 */
export function kernelFor(node: OpNode, graph: Graph, limits: KernelLimits, epilogue?: Epilogue, folded?: ReadonlyMap<ValueId, View>, transposedOut = false): KernelSource {
  const template = registry[node.op].wgsl as KernelTemplate<OpKind> | null;
  if (!template) throw new MissingKernelError(node.op);
  const transposed = node.inputs.map((id) => folded?.get(id)?.transposed ?? false);
  return template({
    inputs: boundInputs(node, folded).map((id) => graph.nodes[id]),
    out: node,
    params: node.params,
    limits,
    ...(epilogue ? { epilogue } : {}),
    ...(transposed.some(Boolean) ? { transposed } : {}),
    ...(transposedOut ? { transposedOut } : {}),
  });
}

/** The values an op's kernel binds: its inputs, a folded transpose's stored value in its place. */
export const boundInputs = (node: OpNode, folded?: ReadonlyMap<ValueId, View>): ValueId[] => node.inputs.map((id) => folded?.get(id)?.value ?? id);

/** A folded transpose's stored value, and whether its reader reads it transposed (schedule.ts). */
export interface View {
  readonly value: ValueId;
  readonly transposed: boolean;
}

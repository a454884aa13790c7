// The kernel of one op node: the op's WGSL template applied to the node's concrete types.
import type { Graph, OpNode } from "../../ir/types.js";
import { registry } from "../../ops/index.js";
import type { OpKind } from "../../ir/kinds.js";
import type { Epilogue, KernelLimits, KernelSource, KernelTemplate } from "../../wgsl/kernel.js";

export class MissingKernelError extends Error {
  constructor(readonly op: string) {
    super(`internal error: the op \`${op}\` has no WGSL kernel (a unetc bug)`);
    this.name = "MissingKernelError";
  }
}

/** `epilogue`: an elementwise chain for the op's store (only the GEMM ops take one). */
export function kernelFor(node: OpNode, graph: Graph, limits: KernelLimits, epilogue?: Epilogue): KernelSource {
  const template = registry[node.op].wgsl as KernelTemplate<OpKind> | null;
  if (!template) throw new MissingKernelError(node.op);
  return template({
    inputs: node.inputs.map((id) => graph.nodes[id]),
    out: node,
    params: node.params,
    limits,
    ...(epilogue ? { epilogue } : {}),
  });
}

// Text forms of a kernel schedule, for `unetc compile --emit schedule|wgsl` and the goldens that
// pin what the compiler generates: one line per dispatch, and each distinct shader once.
import type { Graph } from "../../ir/types.js";
import { kernelBindings, type MemoryPlan, type ScheduledKernel } from "../../wgsl/program.js";

/** Distinct shader sources in first-use order, each with the dispatches that use it. */
function pipelines(kernels: readonly ScheduledKernel[]): Map<string, number[]> {
  const byCode = new Map<string, number[]>();
  kernels.forEach((k, i) => byCode.set(k.source.code, [...(byCode.get(k.source.code) ?? []), i]));
  return byCode;
}

export function printSchedule(graph: Graph, kernels: readonly ScheduledKernel[], plan: MemoryPlan): string {
  const pipelineOf = new Map<string, number>([...pipelines(kernels).keys()].map((code, i) => [code, i]));
  const lines = kernels.map((k, i) => {
    const label = graph.nodes[k.output].label;
    const ins = k.inputs.map((id) => `%${id}`).join(", ");
    // a stack (stack.ts) by its first member, its label counting the members
    const writes = kernelBindings(k).slice(k.inputs.length);
    // a write made in place (stack.ts) lies in an arena: `a<index>`
    const slots = writes.map((id) => plan.slotOf.get(id) ?? (plan.placement.get(id)?.kind === "arena" ? `a${plan.placement.get(id)!.index}` : "-")).join(",");
    return `k${i}: ${writes.map((id) => `%${id}`).join(", ")} = ${k.label}(${ins}) p${pipelineOf.get(k.source.code)} wg=[${k.source.workgroups.join(",")}] buf=${slots}${label ? `  # ${label}` : ""}`;
  });
  const fused = kernels.reduce((a, k) => a + k.nodes.length, 0);
  lines.push(`# ${kernels.length} kernels computing ${fused} ops, ${pipelineOf.size} pipelines`);
  lines.push(`# memory: ${plan.slots.length} buffers, ${plan.allocatedBytes} bytes allocated, peak live ${plan.peakLiveBytes}, without reuse ${plan.naiveBytes}`);
  return lines.join("\n");
}

export function printKernels(kernels: readonly ScheduledKernel[]): string {
  return [...pipelines(kernels)]
    .map(([code, uses], i) => `// p${i}: ${kernels[uses[0]].label}, ${uses.length} dispatch${uses.length === 1 ? "" : "es"} (k${uses.join(", k")})\n${code.trim()}\n`)
    .join("\n");
}

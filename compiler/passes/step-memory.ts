// The device memory a training step needs, from the compiled plan alone (no device): the
// persistent state (parameters, buffers, optimizer and EMA state, inputs) plus the transient
// buffers the memory planner allocates for one step's activations and gradients. This is what
// the WebGPU executor allocates for the step, so variants compare on any machine.
import { scheduleGraph } from "./schedule/schedule.js";
import type { Graph } from "../ir/types.js";
import { isPersistent, planMemory, valueBytes } from "./memory-plan.js";

export interface StepMemory {
  readonly persistentBytes: number;
  readonly transientBytes: number;
  readonly totalBytes: number;
}

export function stepMemory(graph: Graph): StepMemory {
  const kernels = scheduleGraph(graph, { maxWorkgroupsPerDimension: 65535, hardware: true }, { fuse: true, maxBindings: 10 });
  const plan = planMemory(graph, kernels, 2 ** 31);
  let persistentBytes = 0;
  for (const n of graph.nodes) if (isPersistent(graph, n.id)) persistentBytes += valueBytes(n.shape);
  return { persistentBytes, transientBytes: plan.allocatedBytes, totalBytes: persistentBytes + plan.allocatedBytes };
}

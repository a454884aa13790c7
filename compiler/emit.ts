// What `unetc compile --emit ...` prints: the inference or training-step op graph (text or
// Graphviz), its kernel schedule with the memory plan, or the distinct WGSL kernels.
import type { ModelGraph } from "./check/model-graph.js";
import { printGraph } from "./ir/printer.js";
import { toDot } from "./ir/dot.js";
import { buildGraph, compileGraph, type CompileOptions, type OptimizerKind, type Target } from "./compile.js";
import { printKernels, printSchedule } from "./passes/schedule/print.js";

export type Emit = "graph" | "dot" | "schedule" | "wgsl" | "train-graph" | "train-dot" | "train-schedule" | "train-wgsl";

/** The kernels as a software adapter gets them: the limits CI's lavapipe has (the goldens pin them). */
const SOFTWARE_ADAPTER: Target = {
  limits: { maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 10, maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 },
  hardware: false,
};

export function compileText(model: ModelGraph, emit: Emit, batch: number, optimizer: OptimizerKind): string {
  const train = emit.startsWith("train");
  const o: CompileOptions = { batch, mode: train ? "step" : "eval", optimizer, ...SOFTWARE_ADAPTER };
  const graph = buildGraph(model, o);
  if (emit.endsWith("dot")) return toDot(graph, model.name);
  if (emit.endsWith("schedule") || emit.endsWith("wgsl")) {
    const c = compileGraph(graph, o);
    return emit.endsWith("wgsl") ? printKernels(c.kernels) : printSchedule(graph, c.kernels, c.plan);
  }
  return `# ${train ? "training step (forward, backward, optimizer)" : "inference"} graph of ${model.name}, batch ${batch}\n${printGraph(graph)}`;
}

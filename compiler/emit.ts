// What `unetc compile --emit ...` prints: the inference or training-step op graph (text or
// Graphviz), its kernel schedule with the memory plan, or the distinct WGSL kernels.
import { modelTask, type ModelGraph } from "./check/model-graph.js";
import { printGraph } from "./ir/printer.js";
import { toDot } from "./ir/dot.js";
import { lowerModel } from "./passes/lower/lower.js";
import { buildTrainStep, lossForTask, type OptimizerKind } from "./passes/step/index.js";
import { scheduleGraph } from "./passes/schedule/schedule.js";
import { printKernels, printSchedule } from "./passes/schedule/print.js";
import { planMemory } from "./passes/memory-plan.js";

export type Emit = "graph" | "dot" | "schedule" | "wgsl" | "train-graph" | "train-dot" | "train-schedule" | "train-wgsl";

export function compileText(model: ModelGraph, emit: Emit, batch: number, optimizer: OptimizerKind): string {
  const train = emit.startsWith("train");
  const graph = train ? buildTrainStep(lowerModel(model, { batch, mode: "train" }), { optimizer, loss: lossForTask(modelTask(model)) }) : lowerModel(model, { batch, mode: "eval" });
  if (emit.endsWith("dot")) return toDot(graph, model.name);
  if (emit.endsWith("schedule") || emit.endsWith("wgsl")) {
    // The kernels as a software adapter gets them (the limits CI and lavapipe have).
    const kernels = scheduleGraph(graph, { maxWorkgroupsPerDimension: 65535, hardware: false }, { fuse: true, maxBindings: 10 });
    return emit.endsWith("wgsl") ? printKernels(kernels) : printSchedule(graph, kernels, planMemory(graph, kernels, 2 ** 31));
  }
  return `# ${train ? "training step (forward, backward, optimizer)" : "inference"} graph of ${model.name}, batch ${batch}\n${printGraph(graph)}`;
}

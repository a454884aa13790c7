export { buildTrainStep, lossForTask } from "./train-step.js";
export type { LossKind, TrainStepOptions } from "./train-step.js";
export { adamScalars, adamUpdate } from "./adam.js";
export type { OptimizerKind, AdamScalars, AdamState } from "./adam.js";
export { addLoopState, emaTargets, type LoopStateOptions } from "./train-graph.js";

export { buildTrainStep, lossForTask } from "./train-step.js";
export type { LossKind, TrainStepOptions } from "./train-step.js";
export { adamScalars, adamUpdate, adamStateName, HYPER_PARAMS } from "./adam.js";
export type { OptimizerKind, HyperParam, AdamScalars, AdamState } from "./adam.js";

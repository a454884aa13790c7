// Composite helpers for the lowering: layers expressed in primitives.
export { conv2dLayer, linear, upsampleNearest2x, concat, softmax, embeddingGather, mseLoss, crossEntropyLoss } from "./layers.js";
export { silu, gelu } from "./activations.js";
export { batchNorm, groupNorm, layerNorm } from "./norms.js";
export type { BatchNormOptions, BatchNormResult } from "./norms.js";
export { attentionCore } from "./attention.js";
export { sinusoidalEmbedding, sinusoidalFrequencies } from "./embedding.js";
export type { SinusoidalOptions } from "./embedding.js";

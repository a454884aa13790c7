// The built-in layers of the language by name, each defined in its family's module of this folder.
// The node kinds they create are check/layer-kinds.ts; their lowerings are compiler/layers.
import { ACTIVATIONS } from "./activations.js";
import { ATTENTION } from "./attention.js";
import { CONVOLUTION } from "./convolution.js";
import { LINEAR } from "./linear.js";
import { NAMED } from "./named.js";
import { NORMS } from "./norms.js";
import { RESHAPING } from "./reshaping.js";
import type { Builtin } from "./signature.js";

export type { Args, Builtin, BuiltinParam, LayerCtx, LocalParam, NodeOptions } from "./signature.js";
export { channelsOf } from "./signature.js";

/** In the order `unetc` lists them (and suggestions consider them). */
export const BUILTINS = {
  conv2d: CONVOLUTION.conv2d,
  linear: LINEAR.linear,
  batchnorm: NORMS.batchnorm,
  groupnorm: NORMS.groupnorm,
  layernorm: NORMS.layernorm,
  embedding: LINEAR.embedding,
  sinusoidal: ACTIVATIONS.sinusoidal,
  silu: ACTIVATIONS.silu,
  gelu: ACTIVATIONS.gelu,
  relu: ACTIVATIONS.relu,
  sigmoid: ACTIVATIONS.sigmoid,
  tanh: ACTIVATIONS.tanh,
  upsample: CONVOLUTION.upsample,
  flatten: RESHAPING.flatten,
  mean_pool: RESHAPING.mean_pool,
  tap: NAMED.tap,
  concat: RESHAPING.concat,
  chunk: RESHAPING.chunk,
  attention: ATTENTION.attention,
  rearrange: RESHAPING.rearrange,
  param: NAMED.param,
} satisfies Record<string, Builtin>;

export type BuiltinName = keyof typeof BUILTINS;

/** Own keys only: `toString` is not a layer. */
export const builtinNamed = (name: string): Builtin | undefined => (Object.hasOwn(BUILTINS, name) ? BUILTINS[name as BuiltinName] : undefined);

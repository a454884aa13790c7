// The kinds of node in a checked model and the attributes each carries. Every stage that reads a
// node (lowering above all) switches on `op` and gets its attributes typed; a new kind added here
// must get a shape rule (check/layers) and a lowering (compiler/layers) before anything compiles.
export type InputKind = "image" | "timestep" | "label";

export type AttentionLayout = "per_head" | "blocks";

type None = Record<string, never>;

export interface LayerAttrs {
  // made by the elaborator itself: declarations, literals and the language's arithmetic
  input: { name: string; kind: InputKind };
  const: { value: number };
  param: None;
  add: None;
  sub: None;
  mul: None;
  div: None;
  // made by built-in layers and functions (check/layers)
  conv2d: { k: number; stride: number; padding: number; bias: boolean };
  linear: { bias: boolean };
  batchnorm: { eps: number; momentum: number };
  groupnorm: { groups: number; eps: number };
  layernorm: { eps: number };
  embedding: { num: number };
  sinusoidal: { dim: number; max_period: number; freq_shift: number; flip: boolean };
  silu: None;
  gelu: None;
  relu: None;
  sigmoid: None;
  tanh: None;
  upsample: { factor: number };
  flatten: None;
  mean_pool: None;
  tap: { name: string };
  concat: { axis: number };
  /** One part of a `chunk`. */
  slice: { axis: number; start: number; end: number };
  attention: { heads: number; layout: AttentionLayout };
  /** `inShape`: the input with its grouped axes split; `perm`: the permutation of those axes. */
  rearrange: { pattern: string; perm: number[]; inShape: number[] };
}

export type LayerKind = keyof LayerAttrs;

export type ArithKind = "add" | "sub" | "mul" | "div";
export type UnaryKind = "silu" | "gelu" | "relu" | "sigmoid" | "tanh";

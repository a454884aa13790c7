// The primitive op kinds and the params each one carries (jax-js `PrimitiveParamsImpl`).
// Adding a kind here without a rule in compiler/ops/index.ts's registry is a compile error.

import type { DType, Shape } from "./value-type.js";

/** Params of ops that take none. */
export type NoParams = Record<string, never>;

export const UNARY_KINDS = [
  "neg", "exp", "log", "sin", "cos", "sqrt", "rsqrt", "sigmoid", "tanh", "erf", "square", "relu", "step",
] as const;
export type UnaryKind = (typeof UNARY_KINDS)[number];

/** Elementwise with NumPy broadcasting; `eq` yields 1.0 where equal, else 0.0. */
export const BINARY_KINDS = ["add", "sub", "mul", "div", "max", "eq"] as const;
export type BinaryKind = (typeof BINARY_KINDS)[number];

export const REDUCE_KINDS = ["reduce_sum", "reduce_mean", "reduce_max"] as const;
export type ReduceKind = (typeof REDUCE_KINDS)[number];

export interface ReduceParams {
  /** Canonical axes: non-negative, ascending, unique. */
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** Fused BatchNorm (ops/batchnorm.ts): its epsilon, and an activation applied to its output. */
export interface BatchNormParams {
  readonly eps: number;
  readonly act?: "silu";
}

export interface ConvParams {
  readonly stride: number;
  readonly padding: number;
}

type UnaryParams = { [K in UnaryKind]: NoParams };
type BinaryParams = { [K in BinaryKind]: NoParams };
type ReduceParamsMap = { [K in ReduceKind]: ReduceParams };

export interface OpParamsMap extends UnaryParams, BinaryParams, ReduceParamsMap {
  // [N, Ci, H, W] x [Co, Ci, kh, kw] -> [N, Co, OH, OW]
  conv2d: ConvParams;
  // grad wrt the conv input: g [N, Co, OH, OW] x w [Co, Ci, kh, kw] -> [N, Ci, H, W]
  conv2d_input_grad: ConvParams & { readonly inputSize: readonly [number, number] };
  // grad wrt the conv weight: x [N, Ci, H, W] x g [N, Co, OH, OW] -> [Co, Ci, kh, kw]
  conv2d_weight_grad: ConvParams & { readonly kernelSize: readonly [number, number] };
  // the weight gradient's sums over sample groups (split-K): x [N, Ci, H, W] x g [N, Co, OH, OW]
  // -> [splits, Co, Ci, kh, kw], part s summing samples [s*N/splits, (s+1)*N/splits)
  conv2d_weight_grad_partial: ConvParams & { readonly kernelSize: readonly [number, number]; readonly splits: number };
  // [..., M, K] x [..., K, N] -> [..., M, N], leading dims broadcast
  matmul: NoParams;
  reshape: { readonly shape: Shape };
  transpose: { readonly perm: readonly number[] };
  broadcast_to: { readonly shape: Shape };
  concat: { readonly axis: number };
  // per-axis [start, end) with step 1
  slice: { readonly starts: readonly number[]; readonly ends: readonly number[] };
  // zero padding per axis
  pad: { readonly before: readonly number[]; readonly after: readonly number[] };
  // table [V, D] x idx i32 [N] -> [N, D]
  gather: NoParams;
  // g [N, D] x idx i32 [N] -> [rows, D], rows with repeated indices summed
  scatter_add: { readonly rows: number };
  // softmax over the last axis
  softmax: NoParams;
  // fused multi-head self-attention (ops/attention.ts): qkv [N, S, 3C] -> [N, S, C]
  attention: { readonly heads: number };
  // its backward: qkv -> per query row [N, heads, S], the logsumexp of its scores (the schedule
  // computes it in the forward's kernel)
  attention_lse: { readonly heads: number };
  // lse, out, g -> per query row [N, heads, S, 2] (logsumexp, g . out)
  attention_stats: { readonly heads: number };
  // qkv, g, stats -> dqkv [N, S, 3C]
  attention_grad: { readonly heads: number };
  // fused training-mode BatchNorm (ops/batchnorm.ts), x [N, C, ...]: x -> [2, C] (mean, biased var)
  batchnorm_stats: NoParams;
  // x, stats, weight [C], bias [C] -> y, or silu(y) with act "silu"
  batchnorm_apply: BatchNormParams;
  // its backward: x, dy, stats (act "silu": x, dh, stats, weight, bias) -> [2, C] (sum dy, sum dy * xhat)
  batchnorm_grad_stats: BatchNormParams;
  // x, dy, stats, weight, grad stats (act "silu": then bias) -> dx
  batchnorm_input_grad: BatchNormParams;
  // fused LayerNorm over the last axis (ops/layernorm.ts), x [..., D] as R rows: x -> [R, 2] (mean, rstd)
  layernorm_stats: { readonly eps: number };
  // x, stats, weight [D], bias [D] -> y
  layernorm_apply: NoParams;
  // its backward: x, dy, stats, weight -> dx
  layernorm_input_grad: NoParams;
  // x, dy, stats -> [2, D] (sum dy, sum dy * xhat over the rows)
  layernorm_param_grad: NoParams;
  cast: { readonly to: DType };
  // every element = value
  fill: { readonly value: number; readonly shape: Shape; readonly dtype: DType };
  // explicit values in row-major order
  constant: { readonly values: readonly number[]; readonly shape: Shape; readonly dtype: DType };
}

export type OpKind = keyof OpParamsMap;
export type OpParams<K extends OpKind> = OpParamsMap[K];

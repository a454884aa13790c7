// One definition per node kind of a checked model, in a table keyed by the kind: the checker's
// half (the built-in layer with its parameters, doc and shape rule, which lives in check/layers
// because the checker may not import the graph) beside the lowering to the op graph. A kind
// without a lowering, or without a checker's half, does not compile.
//
// Batched layouts: images [B, C, H, W], tokens [B, S, C], vectors [B, C], timesteps/labels [B].
// Values made only from parameters and constants have no batch axis (`batched: false`) and
// broadcast from the right against batched ones.
import type { Builtin } from "../check/layers/index.js";
import type { ElaboratedRule } from "../check/layers/elaborated.js";
import type { LayerKind, LayerNodeOf } from "../check/model-graph.js";
import type { GraphBuilder } from "../graph/builder.js";
import type { Value } from "../ir/value.js";

export interface Lowered {
  v: Value;
  /** Whether the value has the leading batch axis. */
  batched: boolean;
}

/** What a lowering rule sees of the model being lowered. */
export interface LowerCtx {
  readonly b: GraphBuilder;
  readonly batch: number;
  /** Training mode: BatchNorm uses batch statistics and outputs its updated running statistics. */
  readonly training: boolean;
  /** Attention as the fused op (ops/attention.ts) rather than matmuls and a softmax. */
  readonly fusedAttention: boolean;
  /** Training-mode BatchNorm as the fused ops (ops/batchnorm.ts) rather than reductions and elementwise ops. */
  readonly fusedBatchNorm: boolean;
  /** LayerNorm as the fused ops (ops/layernorm.ts) rather than means and elementwise ops. */
  readonly fusedLayerNorm: boolean;
  /** The lowered value of an earlier node. */
  get(id: number): Lowered;
  /** The graph source of a parameter or buffer the node owns, by its local name (`weight`), or
   *  null when the layer was made without it (`bias = false`). */
  own(n: { path: string; params: readonly { name: string }[] }, local: string): Value | null;
  /** The graph source of a parameter or buffer by its full name. */
  source(name: string): Value;
}

/** A node's lowering; undefined for a node that makes no value. */
export type LowerRule<K extends LayerKind> = (cx: LowerCtx, n: LayerNodeOf<K>) => Lowered | undefined;

export interface LayerDef<K extends LayerKind> {
  /** The checker's half: the built-in layer that creates the kind, or the elaborator's rule. */
  readonly check: Builtin | ElaboratedRule;
  readonly lower: LowerRule<K>;
}

export type LayerTable = { readonly [K in LayerKind]: LayerDef<K> };

/** The value as is, keeping the batch axis of the layer's input. */
export const like = (x: Lowered, v: Value): Lowered => ({ v, batched: x.batched });
export const batched = (v: Value): Lowered => ({ v, batched: true });

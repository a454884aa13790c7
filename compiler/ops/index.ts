// The primitive registry. Its type maps every OpKind to that op's definition, so an op
// kind without a rule (shape, VJP or reference kernel) does not compile (jax-js).

import { attention, attentionGrad, attentionLse, attentionStats } from "./attention.js";
import { batchnormApply, batchnormGradStats, batchnormInputGrad, batchnormStats } from "./batchnorm.js";
import { binaryOps } from "./binary.js";
import { layernormApply, layernormInputGrad, layernormParamGrad, layernormStats } from "./layernorm.js";
import { cast } from "./cast.js";
import { concat } from "./concat.js";
import { constant, fill } from "./constant.js";
import { conv2d } from "./conv2d.js";
import { conv2dInputGrad } from "./conv2d-input-grad.js";
import { conv2dWeightGrad, conv2dWeightGradPartial } from "./conv2d-weight-grad.js";
import type { OpDef } from "./def.js";
import { gather, scatterAdd } from "./gather.js";
import type { OpKind } from "../ir/kinds.js";
import { matmul } from "./matmul.js";
import { broadcastTo, reshape, transpose } from "./movement.js";
import { reduceOps } from "./reduce.js";
import { pad, slice } from "./slice.js";
import { softmax } from "./softmax.js";
import { unaryOps } from "./unary.js";

export type Registry = { readonly [K in OpKind]: OpDef<K> };

export const registry: Registry = {
  ...unaryOps,
  ...binaryOps,
  ...reduceOps,
  conv2d,
  conv2d_input_grad: conv2dInputGrad,
  conv2d_weight_grad: conv2dWeightGrad,
  conv2d_weight_grad_partial: conv2dWeightGradPartial,
  matmul,
  reshape,
  transpose,
  broadcast_to: broadcastTo,
  concat,
  slice,
  pad,
  gather,
  scatter_add: scatterAdd,
  softmax,
  attention,
  attention_lse: attentionLse,
  attention_stats: attentionStats,
  attention_grad: attentionGrad,
  batchnorm_stats: batchnormStats,
  batchnorm_apply: batchnormApply,
  batchnorm_grad_stats: batchnormGradStats,
  batchnorm_input_grad: batchnormInputGrad,
  layernorm_stats: layernormStats,
  layernorm_apply: layernormApply,
  layernorm_input_grad: layernormInputGrad,
  layernorm_param_grad: layernormParamGrad,
  cast,
  fill,
  constant,
};

export type { OpDef, VjpRule, VjpContext, ReferenceImpl, RefContext, NoVjp } from "./def.js";
export { ShapeError, hasVjp } from "./def.js";
export type { OpEmitter, Operand } from "./emitter.js";
export type { OpKind, OpParams, OpParamsMap } from "../ir/kinds.js";
export { UNARY_KINDS, BINARY_KINDS, REDUCE_KINDS } from "../ir/kinds.js";

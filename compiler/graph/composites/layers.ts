// Layer-level helpers built only from primitives (micrograd's derived ops): their
// gradients come from the primitives' rules, so they need no VJP of their own.

import type { GraphBuilder } from "../builder.js";
import { normalizeAxis } from "../../ir/shape.js";
import type { Value } from "../../ir/value.js";

/** PyTorch nn.Conv2d: x [N, Ci, H, W], w [Co, Ci, k, k], bias [Co] -> [N, Co, OH, OW]. */
export function conv2dLayer(b: GraphBuilder, x: Value, w: Value, bias: Value | null | undefined, stride = 1, padding = 0): Value {
  const y = b.conv2d(x, w, { stride, padding });
  return bias ? b.add(y, b.reshape(bias, [1, bias.shape[0], 1, 1])) : y;
}

/** PyTorch nn.Linear on the last axis: x [..., In], w [Out, In], bias [Out] -> [..., Out]. */
export function linear(b: GraphBuilder, x: Value, w: Value, bias?: Value | null): Value {
  const [out, inn] = w.shape;
  const lead = x.shape.slice(0, -1);
  const flat = b.reshape(x, [-1, inn]); // [M, In]
  const y = b.matmul(flat, b.transpose(w, [1, 0])); // [M, Out]
  const withBias = bias ? b.add(y, bias) : y;
  return b.reshape(withBias, [...lead, out]);
}

/** Nearest-neighbour 2x upsampling: x [N, C, H, W] -> [N, C, 2H, 2W]. */
export function upsampleNearest2x(b: GraphBuilder, x: Value): Value {
  const [n, c, h, w] = x.shape;
  const spread = b.broadcastTo(b.reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]);
  return b.reshape(spread, [n, c, 2 * h, 2 * w]);
}

export function concat(b: GraphBuilder, xs: readonly Value[], axis: number): Value {
  return b.concat(xs, axis);
}

/** Softmax along any axis (the primitive works on the last one). */
export function softmax(b: GraphBuilder, x: Value, axis = -1): Value {
  const a = normalizeAxis(axis, x.rank);
  if (a === null) throw new Error(`softmax: axis ${axis} is out of range for rank ${x.rank}`);
  if (a === x.rank - 1) return b.softmax(x);
  const perm = x.shape.map((_, i) => i);
  [perm[a], perm[x.rank - 1]] = [perm[x.rank - 1], perm[a]]; // a swap is its own inverse
  return b.transpose(b.softmax(b.transpose(x, perm)), perm);
}

/** nn.Embedding: table [V, D], idx i32 [N] -> [N, D]. */
export function embeddingGather(b: GraphBuilder, table: Value, idx: Value): Value {
  return b.gather(table, idx);
}

/** nn.MSELoss (reduction mean): pred, target [..] -> []. */
export function mseLoss(b: GraphBuilder, pred: Value, target: Value): Value {
  return b.mean(b.square(b.sub(pred, target)));
}

/**
 * nn.CrossEntropyLoss (reduction mean) with the target given as class probabilities (one-hot for
 * hard labels): logits, target [N, K] -> []. log-softmax as x - max - log(sum(exp(x - max))),
 * so large logits do not overflow; the max's gradient cancels exactly.
 */
export function crossEntropyLoss(b: GraphBuilder, logits: Value, target: Value): Value {
  const last = logits.rank - 1;
  const shifted = b.sub(logits, b.amax(logits, last, true));
  const logSoftmax = b.sub(shifted, b.log(b.sum(b.exp(shifted), last, true)));
  return b.neg(b.mean(b.sum(b.mul(target, logSoftmax), last)));
}

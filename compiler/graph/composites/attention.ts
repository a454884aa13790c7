// The core of the course's SelfAttention: softmax(Q K^T / sqrt(d)) V per head.
//
// Shape legend: N batch, S sequence (H*W pixels), C channels, h heads, d = C / h.
// Layout of qkv's last axis (from `rearrange(x, 'n s (h d) -> (n h) s d')` then
// `chunk(3, dim=-1)` in the course): head i owns features [3d*i, 3d*(i+1)), laid out
// [q_i | k_i | v_i], each d wide. Output heads are concatenated in head order.

import type { GraphBuilder } from "../builder.js";
import type { Value } from "../../ir/value.js";

/** qkv [N, S, 3C] -> [N, S, C]. */
export function attentionCore(b: GraphBuilder, qkv: Value, heads: number): Value {
  const [n, s, c3] = qkv.shape;
  if (c3 % (3 * heads) !== 0) throw new Error(`attentionCore: last axis ${c3} is not 3 * heads(${heads}) * d`);
  const d = c3 / (3 * heads);
  const perHead = b.transpose(b.reshape(qkv, [n, s, heads, 3 * d]), [0, 2, 1, 3]); // [N, h, S, 3d]
  const q = b.sliceAxis(perHead, 3, 0, d); // [N, h, S, d]
  const k = b.sliceAxis(perHead, 3, d, 2 * d);
  const v = b.sliceAxis(perHead, 3, 2 * d, 3 * d);
  const scores = b.mul(b.matmul(q, b.transposeLast2(k)), 1 / Math.sqrt(d)); // [N, h, S, S]
  const out = b.matmul(b.softmax(scores), v); // [N, h, S, d]
  return b.reshape(b.transpose(out, [0, 2, 1, 3]), [n, s, heads * d]); // [N, S, C]
}

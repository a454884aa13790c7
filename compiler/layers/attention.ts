// Multi-head attention over tokens.
import { BUILTINS } from "../check/layers/index.js";
import type { GraphBuilder } from "../graph/builder.js";
import * as C from "../graph/composites/index.js";
import type { Value } from "../ir/value.js";
import { batched, type LayerTable } from "./def.js";

/** [q | k | v] blocks of C = heads * d features -> per-head [q_h | k_h | v_h] layout. */
function blocksToPerHead(b: GraphBuilder, qkv: Value, heads: number): Value {
  const [B, S, C3] = qkv.shape;
  const d = C3 / 3 / heads;
  return b.reshape(b.transpose(b.reshape(qkv, [B, S, 3, heads, d]), [0, 1, 3, 2, 4]), [B, S, C3]);
}

export const ATTENTION: Pick<LayerTable, "attention"> = {
  attention: {
    check: BUILTINS.attention,
    lower: ({ b, get, fusedAttention }, n) => {
      const { heads, layout } = n.attrs;
      const x = get(n.inputs[0]).v;
      const qkv = layout === "blocks" ? blocksToPerHead(b, x, heads) : x;
      return batched(fusedAttention ? b.attention(qkv, heads) : C.attentionCore(b, qkv, heads));
    },
  },
};

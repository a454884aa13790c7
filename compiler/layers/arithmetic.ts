// The language's elementwise arithmetic over tensors, broadcast as check/broadcast.ts says.
import { alignedShape } from "../check/broadcast.js";
import { ELABORATED } from "../check/layers/elaborated.js";
import type { ArithKind, LayerNodeOf } from "../check/model-graph.js";
import type { Value } from "../ir/value.js";
import type { LayerDef, LayerTable, LowerCtx, Lowered } from "./def.js";

/**
 * The language broadcasts a per-sample vector [C] over an image's channels ([C, H, W]) and a
 * per-sample scalar over everything. Batched, those are [B, C] and [B]: reshape them to
 * [B, C, 1, 1] / [B, 1, 1, 1] (or [B, 1, C] for tokens) so numpy broadcasting lines up.
 * Unbatched values already broadcast from the right.
 */
function aligned(cx: LowerCtx, x: Lowered, out: readonly number[]): Value {
  if (!x.batched) return x.v;
  const own = x.v.shape.slice(1);
  const to = alignedShape(own, out);
  return to === own ? x.v : cx.b.reshape(x.v, [x.v.shape[0], ...to]);
}

function arithmetic<K extends ArithKind>(op: K): LayerDef<K> {
  return {
    check: ELABORATED[op],
    lower: (cx: LowerCtx, n: LayerNodeOf<K>) => {
      const [l, r] = n.inputs.map(cx.get);
      const v = cx.b[op](aligned(cx, l, n.shape), aligned(cx, r, n.shape));
      return { v, batched: l.batched || r.batched };
    },
  };
}

export const ARITHMETIC: Pick<LayerTable, ArithKind> = {
  add: arithmetic("add"),
  sub: arithmetic("sub"),
  mul: arithmetic("mul"),
  div: arithmetic("div"),
};

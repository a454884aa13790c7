// Learned maps of features: the affine layer and the class-label embedding table.
import { BUILTINS } from "../check/layers/index.js";
import * as C from "../graph/composites/index.js";
import { batched, like, type LayerTable } from "./def.js";

export const LINEAR: Pick<LayerTable, "linear" | "embedding"> = {
  linear: {
    check: BUILTINS.linear,
    lower: (cx, n) => {
      const x = cx.get(n.inputs[0]);
      return like(x, C.linear(cx.b, x.v, cx.own(n, "weight")!, cx.own(n, "bias")));
    },
  },
  embedding: {
    check: BUILTINS.embedding,
    lower: (cx, n) => batched(C.embeddingGather(cx.b, cx.own(n, "weight")!, cx.get(n.inputs[0]).v)),
  },
};

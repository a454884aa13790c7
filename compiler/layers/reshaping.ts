// Layers that move, join, split or pool values without parameters. Axes in attributes are per
// sample; a batched value has them one further along.
import { BUILTINS } from "../check/layers/index.js";
import { numel } from "../check/model-graph.js";
import { batched, like, type LayerTable } from "./def.js";

export const RESHAPING: Pick<LayerTable, "flatten" | "mean_pool" | "concat" | "slice" | "rearrange"> = {
  flatten: {
    check: BUILTINS.flatten,
    lower: ({ b, batch, get }, n) => {
      const x = get(n.inputs[0]);
      return like(x, b.reshape(x.v, x.batched ? [batch, numel(n.shape)] : [numel(n.shape)]));
    },
  },
  mean_pool: {
    check: BUILTINS.mean_pool,
    lower: ({ b, get }, n) => {
      // images [C, H, W] -> mean over H, W; tokens [S, C] -> mean over S (after the batch axis, if any)
      const x = get(n.inputs[0]);
      const lead = x.batched ? 1 : 0;
      const axes = x.v.rank - lead === 3 ? [lead + 1, lead + 2] : [lead];
      return like(x, b.mean(x.v, axes));
    },
  },
  concat: {
    check: BUILTINS.concat,
    lower: ({ b, get }, n) => {
      const parts = n.inputs.map((id) => get(id).v);
      return batched(b.concat(parts, n.attrs.axis + 1));
    },
  },
  slice: {
    check: BUILTINS.chunk,
    lower: ({ b, get }, n) => {
      const x = get(n.inputs[0]);
      return like(x, b.sliceAxis(x.v, n.attrs.axis + (x.batched ? 1 : 0), n.attrs.start, n.attrs.end));
    },
  },
  rearrange: {
    check: BUILTINS.rearrange,
    lower: ({ b, batch, get }, n) => {
      const { inShape: split, perm } = n.attrs;
      const x = get(n.inputs[0]);
      return batched(b.reshape(b.transpose(b.reshape(x.v, [batch, ...split]), [0, ...perm.map((p) => p + 1)]), [batch, ...n.shape]));
    },
  },
};

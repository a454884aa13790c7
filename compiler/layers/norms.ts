// Normalisation layers. In training mode BatchNorm uses batch statistics and the graph also
// outputs its updated running statistics as `new.<buffer>` (the step contract's replacements).
import { BUILTINS } from "../check/layers/index.js";
import * as C from "../graph/composites/index.js";
import { newName } from "../ir/step-contract.js";
import { batched, like, type LayerTable } from "./def.js";

export const NORMS: Pick<LayerTable, "batchnorm" | "groupnorm" | "layernorm"> = {
  batchnorm: {
    check: BUILTINS.batchnorm,
    lower: (cx, n) => {
      const { b, training, fusedBatchNorm } = cx;
      const rm = cx.own(n, "running_mean")!;
      const rv = cx.own(n, "running_var")!;
      const r = C.batchNorm(b, cx.get(n.inputs[0]).v, cx.own(n, "weight"), cx.own(n, "bias"), rm, rv, { training, momentum: n.attrs.momentum, eps: n.attrs.eps, channelAxis: 1, fused: fusedBatchNorm });
      if (training && r.runningMean && r.runningVar) {
        const path = n.path ? `${n.path}.` : "";
        b.output(newName(`${path}running_mean`), r.runningMean);
        b.output(newName(`${path}running_var`), r.runningVar);
        const count = cx.own(n, "num_batches_tracked");
        if (count) b.output(newName(`${path}num_batches_tracked`), b.add(count, 1));
      }
      return batched(r.y);
    },
  },
  groupnorm: {
    check: BUILTINS.groupnorm,
    lower: (cx, n) => batched(C.groupNorm(cx.b, cx.get(n.inputs[0]).v, n.attrs.groups, cx.own(n, "weight"), cx.own(n, "bias"), n.attrs.eps)),
  },
  layernorm: {
    check: BUILTINS.layernorm,
    lower: (cx, n) => {
      const x = cx.get(n.inputs[0]);
      return like(x, C.layerNorm(cx.b, x.v, cx.own(n, "weight"), cx.own(n, "bias"), n.attrs.eps, cx.fusedLayerNorm));
    },
  },
};

// Taps: named outputs of the compiled model.
import { BUILTINS } from "../check/layers/index.js";
import type { LayerTable } from "./def.js";

export const NAMED: Pick<LayerTable, "tap"> = {
  tap: {
    check: BUILTINS.tap,
    lower: ({ b, batch, training, get }, n) => {
      const x = get(n.inputs[0]);
      // Taps are read in eval mode (features for FID); a training step has no use for them.
      // An output has a row per sample, even for a value that is the same for all of them.
      if (!training) b.output(n.attrs.name, x.batched ? x.v : b.broadcastTo(x.v, [batch, ...n.shape]));
      return x;
    },
  },
};

// Spatial layers of images: convolution and nearest-neighbour upsampling.
import { BUILTINS } from "../check/layers/index.js";
import type { GraphBuilder } from "../graph/builder.js";
import * as C from "../graph/composites/index.js";
import type { Value } from "../ir/value.js";
import { batched, type LayerTable } from "./def.js";

/** Nearest-neighbour upsampling of [B, C, H, W] by an integer factor via reshape + broadcast. */
function upsampleNearest(b: GraphBuilder, x: Value, f: number): Value {
  if (f === 2) return C.upsampleNearest2x(b, x);
  const [B, Ch, H, W] = x.shape;
  const wide = b.broadcastTo(b.reshape(x, [B, Ch, H, 1, W, 1]), [B, Ch, H, f, W, f]);
  return b.reshape(wide, [B, Ch, H * f, W * f]);
}

export const CONVOLUTION: Pick<LayerTable, "conv2d" | "upsample"> = {
  conv2d: {
    check: BUILTINS.conv2d,
    lower: (cx, n) => batched(C.conv2dLayer(cx.b, cx.get(n.inputs[0]).v, cx.own(n, "weight")!, cx.own(n, "bias"), n.attrs.stride, n.attrs.padding)),
  },
  upsample: {
    check: BUILTINS.upsample,
    lower: (cx, n) => batched(upsampleNearest(cx.b, cx.get(n.inputs[0]).v, n.attrs.factor)),
  },
};

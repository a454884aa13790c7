// Learned maps of features: the affine layer and the class-label embedding table.
import { describeValue, POISON } from "../values.js";
import { T } from "../types.js";
import { fanIn, positive, requireKind, tensor, type Builtin, type LocalParam } from "./signature.js";

export const LINEAR = {
  linear: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "out", type: T.int },
      { name: "bias", type: T.bool, default: { t: "bool", v: true } },
    ],
    doc: "Affine map of the last axis (vector [C] or tokens [S, C]) to `out` features. Parameters `weight` [out, C] and `bias` [out].",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [1, 2], "linear")) return POISON;
      const c = x.shape[x.shape.length - 1];
      const out = positive(ctx, a, "out", "the output features of linear");
      if (out === undefined) return POISON;
      const bias = a.bias.t === "bool" && a.bias.v;
      const rows = x.shape.length === 2 ? x.shape[0] : 1;
      const params: LocalParam[] = [{ local: "weight", shape: [out, c], init: fanIn(c) }];
      if (bias) params.push({ local: "bias", shape: [out], init: fanIn(c) });
      return ctx.node("linear", [x], { bias }, [...x.shape.slice(0, -1), out], { flops: 2 * rows * c * out + (bias ? rows * out : 0), params });
    },
  },
  embedding: {
    layer: true,
    params: [
      { name: "c", type: T.tensor },
      { name: "num", type: T.int },
      { name: "dim", type: T.int },
    ],
    doc: "A learned vector per class label: label -> [dim]. Parameter `weight` [num, dim].",
    apply: (ctx, a) => {
      const c = tensor(a.c);
      if (c.dtype === "f32" || c.shape.length !== 0) {
        return ctx.error("E0306", `embedding takes a class label, found ${describeValue(c)}`, { span: ctx.argSpan("c"), help: "declare the labels with `input c: label[CLASSES]`" });
      }
      const classes = positive(ctx, a, "num", "the number of classes of an embedding");
      const dim = positive(ctx, a, "dim", "the size of an embedding");
      if (classes === undefined || dim === undefined) return POISON;
      return ctx.node("embedding", [c], { num: classes }, [dim], { params: [{ local: "weight", shape: [classes, dim], init: { kind: "normal", std: 1 } }] });
    },
  },
} satisfies Record<string, Builtin>;

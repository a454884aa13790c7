// Normalisation layers: batch, group and layer norm, each with an affine weight and bias.
import { numel } from "../model-graph.js";
import { POISON } from "../values.js";
import { T } from "../types.js";
import { num, positive, requireKind, tensor, type Builtin, type LocalParam } from "./signature.js";

function normAffine(c: number): LocalParam[] {
  return [
    { local: "weight", shape: [c], init: { kind: "ones" } },
    { local: "bias", shape: [c], init: { kind: "zeros" } },
  ];
}

export const NORMS = {
  batchnorm: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "eps", type: T.float, default: { t: "float", v: 1e-5 } },
      { name: "momentum", type: T.float, default: { t: "float", v: 0.1 } },
    ],
    doc: "Batch normalisation over the channels of an image (BatchNorm2d) or the features of a vector (BatchNorm1d), with running statistics.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [1, 3], "batchnorm")) return POISON;
      const c = x.shape[0];
      const params: LocalParam[] = [
        ...normAffine(c),
        { local: "running_mean", shape: [c], kind: "buffer", init: { kind: "zeros" } },
        { local: "running_var", shape: [c], kind: "buffer", init: { kind: "ones" } },
        { local: "num_batches_tracked", shape: [], kind: "buffer", dtype: "i64", init: { kind: "zeros" } },
      ];
      return ctx.node("batchnorm", [x], { eps: num(a.eps), momentum: num(a.momentum) }, x.shape, { flops: 4 * numel(x.shape), params });
    },
  },
  groupnorm: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "groups", type: T.int },
      { name: "eps", type: T.float, default: { t: "float", v: 1e-5 } },
    ],
    doc: "Group normalisation of an image over `groups` groups of channels.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [3], "groupnorm")) return POISON;
      const c = x.shape[0];
      const g = positive(ctx, a, "groups", "the number of groups");
      if (g === undefined) return POISON;
      if (c % g !== 0) {
        return ctx.error("E0304", `groupnorm with ${g} groups cannot split ${c} channels`, {
          span: ctx.span,
          label: `${c} channels here`,
          expected: `a channel count divisible by ${g}`,
          found: `${c} channels (${c} % ${g} = ${c % g})`,
          help: "pick a number of groups that divides every width it meets, concatenated skip widths included",
        });
      }
      return ctx.node("groupnorm", [x], { groups: g, eps: num(a.eps) }, x.shape, { flops: 8 * numel(x.shape), params: normAffine(c) });
    },
  },
  layernorm: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "eps", type: T.float, default: { t: "float", v: 1e-5 } },
    ],
    doc: "Layer normalisation of the last axis of tokens [S, C] or a vector [C].",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [1, 2], "layernorm")) return POISON;
      const c = x.shape[x.shape.length - 1];
      return ctx.node("layernorm", [x], { eps: num(a.eps) }, x.shape, { flops: 8 * numel(x.shape), params: normAffine(c) });
    },
  },
} satisfies Record<string, Builtin>;

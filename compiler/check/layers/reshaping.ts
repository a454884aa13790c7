// Layers that move, join, split or pool values without parameters.
import { numel } from "../model-graph.js";
import { rearrangeShape } from "../rearrange.js";
import { describeValue, list, POISON, shapeText, type TensorValue } from "../values.js";
import { T } from "../types.js";
import { channelsOf, positive, requireKind, tensor, type Builtin } from "./signature.js";

export const RESHAPING = {
  flatten: {
    layer: false,
    params: [{ name: "x", type: T.tensor }],
    doc: "Flattens an image [C, H, W] or tokens [S, C] into a vector (PyTorch's nn.Flatten: channels outermost).",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [1, 2, 3], "flatten")) return POISON;
      return ctx.node("flatten", [x], {}, [numel(x.shape)], { flops: 0 });
    },
  },
  mean_pool: {
    layer: false,
    params: [{ name: "x", type: T.tensor }],
    doc: "Global average pooling: the mean over the pixels of an image [C, H, W] (or the tokens of [S, C]) -> vector [C].",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [2, 3], "mean_pool")) return POISON;
      const c = channelsOf(x.shape);
      return ctx.node("mean_pool", [x], {}, [c], { flops: numel(x.shape) });
    },
  },
  concat: {
    layer: false,
    params: [],
    variadic: true,
    doc: "Concatenates tensors along channels (images) or features (tokens, vectors). Spatial sizes must agree.",
    apply: (ctx, _a, rest) => {
      if (rest.length < 2) return ctx.error("E0106", `concat needs at least two tensors, found ${rest.length}`, { span: ctx.span });
      const ts: TensorValue[] = [];
      for (const [i, v] of rest.entries()) {
        if (v.t !== "tensor") return ctx.error("E0201", `concat takes tensors; argument ${i + 1} is ${describeValue(v)}`, { span: ctx.argSpan(String(i)) });
        ts.push(v);
      }
      const first = ts[0];
      for (const [i, t] of ts.entries()) {
        const same = t.shape.length === first.shape.length && (t.shape.length === 3 ? t.shape[1] === first.shape[1] && t.shape[2] === first.shape[2] : t.shape.slice(0, -1).every((d, j) => d === first.shape[j]));
        if (!same) {
          const secondary = ts.flatMap((s) => (s.savedAt ? [{ span: s.savedAt, message: `this skip was saved here as ${shapeText(s.shape)}` }] : []));
          return ctx.error("E0302", `cannot concatenate ${describeValue(first)} with ${describeValue(t)}`, {
            span: ctx.span,
            label: `sizes differ: ${shapeText(first.shape)} and ${shapeText(t.shape)}`,
            secondary,
            help: t.shape.length === 3 ? "a skip must be used at the resolution it was saved at; check that saves and downsamples line up with uses and upsamples, and that the image size is divisible by 2^(levels-1)" : undefined,
            notes: i > 0 ? [] : [],
          });
        }
      }
      const axis = first.shape.length === 3 ? 0 : first.shape.length - 1;
      const shape = [...first.shape];
      shape[axis] = ts.reduce((s, t) => s + t.shape[axis], 0);
      return ctx.node("concat", ts, { axis }, shape, { flops: 0 });
    },
  },
  chunk: {
    layer: false,
    params: [
      { name: "x", type: T.tensor },
      { name: "n", type: T.int },
    ],
    doc: "Splits channels (images) or features (tokens, vectors) into n equal parts; returns a list.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      const n = positive(ctx, a, "n", "the number of chunks");
      if (n === undefined) return POISON;
      const axis = x.shape.length === 3 ? 0 : x.shape.length - 1;
      const c = x.shape[axis];
      if (x.shape.length === 0) return ctx.error("E0306", "chunk needs a tensor with channels, found a scalar", { span: ctx.argSpan("x") });
      if (c % n !== 0) {
        return ctx.error("E0308", `cannot split ${c} ${x.shape.length === 3 ? "channels" : "features"} into ${n} equal chunks`, {
          span: ctx.span,
          label: `this is ${describeValue(x)}`,
          expected: `a multiple of ${n}`,
          found: `${c} (${c} % ${n} = ${c % n})`,
        });
      }
      const size = c / n;
      return list(
        Array.from({ length: n }, (_, i) => {
          const shape = [...x.shape];
          shape[axis] = size;
          return ctx.node("slice", [x], { axis, start: i * size, end: (i + 1) * size }, shape, { flops: 0 });
        }),
      );
    },
  },
  rearrange: {
    layer: false,
    params: [
      { name: "x", type: T.tensor },
      { name: "pattern", type: T.str },
    ],
    extraKwargs: true,
    doc: "einops-style rearrangement of one sample's axes, e.g. `rearrange(x, \"c h w -> (h w) c\")`; grouped input axes take their sizes as keywords.",
    apply: (ctx, a, _rest, kwargs) => {
      const x = tensor(a.x);
      const sizes: Record<string, number> = {};
      for (const [k, v] of kwargs) {
        if (v.t !== "int") return ctx.error("E0201", `axis size \`${k}\` must be an int, found ${describeValue(v)}`, { span: ctx.argSpan(k) });
        if (v.v < 1) return ctx.error("E0201", `axis size \`${k}\` must be at least 1, found ${v.v}`, { span: ctx.argSpan(k), label: "a size must be positive" });
        sizes[k] = v.v;
      }
      const pattern = a.pattern.t === "str" ? a.pattern.v : "";
      const r = rearrangeShape(pattern, x.shape, sizes);
      if (!r.ok) return ctx.error("E0307", r.error, { span: ctx.argSpan("pattern"), found: `input ${describeValue(x)}` });
      return ctx.node("rearrange", [x], { pattern, perm: r.perm, inShape: r.splitShape }, r.shape, { flops: 0 });
    },
  },
} satisfies Record<string, Builtin>;

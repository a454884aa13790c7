// Built-in layers and functions of the .unet language. Each layer states its parameters (names,
// types, defaults: unknown keywords are errors), its shape rule with user-facing messages, the
// parameters and buffers it creates (named as PyTorch names them) and its forward FLOPs per image.
// Shapes are per sample: images [C, H, W], tokens [S, C], vectors [C], scalars [].
import type { Span } from "../diagnostics/source.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { DiagnosticInit } from "../diagnostics/diagnostic.js";
import { numel, type AttrValue, type DTypeName, type ParamInit } from "./model-graph.js";
import { T, type VType } from "./types.js";
import { describeValue, int, list, NONE, POISON, shapeText, tensorKind, type TensorValue, type Value } from "./values.js";
import { rearrangeShape } from "./rearrange.js";
import { MAX_RANGE, thousands } from "./limits.js";

export interface LocalParam {
  local: string;
  shape: number[];
  kind?: "param" | "buffer";
  dtype?: DTypeName;
  init: ParamInit;
}

export interface NodeOptions {
  dtype?: DTypeName;
  flops?: number;
  params?: LocalParam[];
}

/** What a built-in sees of the elaborator. */
export interface LayerCtx {
  readonly span: Span;
  readonly path: string;
  /** Whether the call was named with `as NAME` (or sits in a `seq`). */
  readonly named: boolean;
  argSpan(name: string): Span;
  error(code: DiagnosticCode, message: string, init?: DiagnosticInit): Value;
  node(op: string, inputs: TensorValue[], attrs: Record<string, AttrValue>, shape: number[], opts?: NodeOptions): TensorValue;
  /** A learned tensor whose full name is the path itself (`param([16, 64]) as scale`). */
  paramNode(shape: number[], init: ParamInit): TensorValue;
}

export interface BuiltinParam {
  name: string;
  type: VType;
  /** Absent: required. */
  default?: Value;
}

export interface Args {
  [name: string]: Value;
}

export interface Builtin {
  /** Layers create modules: they take a path, can be named with `as`, and can be items of a `seq`. */
  layer: boolean;
  params: BuiltinParam[];
  /** `concat(a, b, ...)`: any number of positional tensors, passed as `rest`. */
  variadic?: boolean;
  /** `rearrange(x, "...", h = 4)`: extra keywords, passed as `kwargs`. */
  extraKwargs?: boolean;
  doc: string;
  apply(ctx: LayerCtx, a: Args, rest: Value[], kwargs: Map<string, Value>): Value;
}

const num = (v: Value): number => (v.t === "int" || v.t === "float" ? v.v : NaN);
const tensor = (v: Value) => v as TensorValue;
const fanIn = (n: number): ParamInit => ({ kind: "uniform_fan_in", fanIn: n });

/** Channels of an image, features of tokens or of a vector. */
export function channelsOf(shape: readonly number[]): number {
  return shape.length === 3 ? shape[0] : shape[shape.length - 1];
}

/** A size argument (channels, features, groups, classes, a factor): a positive int, or an error
 *  at the argument and undefined. */
function positive(ctx: LayerCtx, a: Args, name: string, what: string): number | undefined {
  const n = num(a[name]);
  if (n >= 1) return n;
  ctx.error("E0201", `${what} must be at least 1, found ${n}`, { span: ctx.argSpan(name), label: "a size must be positive" });
  return undefined;
}

function requireKind(ctx: LayerCtx, x: TensorValue, kinds: number[], what: string, arg = "x"): boolean {
  if (kinds.includes(x.shape.length)) return true;
  const want = kinds.map((r) => ["scalar", "vector", "tokens [S, C]", "image [C, H, W]"][r]).join(" or ");
  ctx.error("E0306", `${what} works on ${want}, found ${tensorKind(x.shape)} ${shapeText(x.shape)}`, {
    span: ctx.argSpan(arg),
    label: `this is ${describeValue(x)}`,
    expected: want,
    found: `${tensorKind(x.shape)} ${shapeText(x.shape)}`,
  });
  return false;
}

function unary(op: string, flopsPerElement: number, doc: string): Builtin {
  return {
    layer: true,
    params: [{ name: "x", type: T.tensor }],
    doc,
    apply: (ctx, a) => {
      const x = tensor(a.x);
      return ctx.node(op, [x], {}, x.shape, { flops: flopsPerElement * numel(x.shape) });
    },
  };
}

function normAffine(c: number): LocalParam[] {
  return [
    { local: "weight", shape: [c], init: { kind: "ones" } },
    { local: "bias", shape: [c], init: { kind: "zeros" } },
  ];
}

export const BUILTINS: Record<string, Builtin> = {
  conv2d: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "out", type: T.int },
      { name: "k", type: T.int, default: int(3) },
      { name: "stride", type: T.int, default: int(1) },
      { name: "padding", type: T.int, default: NONE },
      { name: "bias", type: T.bool, default: { t: "bool", v: true } },
    ],
    doc: "2-D convolution of an image [C, H, W] to [out, H', W']; padding defaults to k // 2. Parameters `weight` [out, C, k, k] and `bias` [out].",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [3], "conv2d")) return POISON;
      const [c, h, w] = x.shape;
      const out = positive(ctx, a, "out", "the output channels of conv2d");
      const k = positive(ctx, a, "k", "the kernel size of conv2d");
      const stride = positive(ctx, a, "stride", "the stride of conv2d");
      if (out === undefined || k === undefined || stride === undefined) return POISON;
      const pad = a.padding.t === "none" ? Math.floor(k / 2) : num(a.padding);
      if (pad < 0) return ctx.error("E0201", `the padding of conv2d must be at least 0, found ${pad}`, { span: ctx.argSpan("padding") });
      if (stride > 1 && (h % stride !== 0 || w % stride !== 0)) {
        return ctx.error("E0305", `a stride-${stride} conv2d needs a spatial size divisible by ${stride}, found ${h}x${w}`, {
          span: ctx.span,
          label: `input is ${shapeText(x.shape)}`,
          help: "make the image size divisible by 2^(levels-1), or use fewer levels",
        });
      }
      const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
      const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
      if (ho < 1 || wo < 1) return ctx.error("E0305", `conv2d kernel ${k}x${k} does not fit a ${h}x${w} input`, { span: ctx.span });
      const bias = a.bias.t === "bool" && a.bias.v;
      const params: LocalParam[] = [{ local: "weight", shape: [out, c, k, k], init: fanIn(c * k * k) }];
      if (bias) params.push({ local: "bias", shape: [out], init: fanIn(c * k * k) });
      const flops = 2 * c * k * k * out * ho * wo + (bias ? out * ho * wo : 0);
      return ctx.node("conv2d", [x], { k, stride, padding: pad, bias }, [out, ho, wo], { flops, params });
    },
  },
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
  sinusoidal: {
    layer: false,
    params: [
      { name: "t", type: T.tensor },
      { name: "dim", type: T.int },
      { name: "max_period", type: T.float, default: { t: "float", v: 10000 } },
      { name: "freq_shift", type: T.float, default: { t: "float", v: 1 } },
      { name: "flip", type: T.bool, default: { t: "bool", v: false } },
    ],
    doc: "Sinusoidal timestep embedding: t * exp(-ln(max_period) * k / (dim/2 - freq_shift)), k = 0 .. dim/2-1, as [sin | cos] ([cos | sin] with flip), zero-padded when dim is odd. freq_shift = 1 is the course's linspace (frequencies 1 .. 1/max_period); diffusers' UNet2DModel uses freq_shift = 0 and flip = true.",
    apply: (ctx, a) => {
      const t = tensor(a.t);
      if (t.shape.length !== 0 || t.dtype !== "f32") return ctx.error("E0306", `sinusoidal takes a timestep, found ${describeValue(t)}`, { span: ctx.argSpan("t") });
      const dim = num(a.dim);
      if (dim < 2) return ctx.error("E0201", `sinusoidal needs dim >= 2, found ${dim}`, { span: ctx.argSpan("dim") });
      const mp = num(a.max_period);
      if (!(mp > 0)) return ctx.error("E0201", `max_period must be positive, found ${mp}`, { span: ctx.argSpan("max_period") });
      const shift = num(a.freq_shift);
      if (Math.floor(dim / 2) - shift <= 0) return ctx.error("E0201", `sinusoidal: dim/2 - freq_shift must be positive (dim ${dim}, freq_shift ${shift})`, { span: ctx.span });
      return ctx.node("sinusoidal", [t], { dim, max_period: mp, freq_shift: shift, flip: a.flip.t === "bool" && a.flip.v }, [dim], { flops: 3 * dim });
    },
  },
  silu: unary("silu", 4, "x * sigmoid(x), elementwise."),
  gelu: unary("gelu", 8, "Gaussian error linear unit (exact erf form), elementwise."),
  relu: unary("relu", 1, "max(x, 0), elementwise."),
  sigmoid: unary("sigmoid", 3, "1 / (1 + exp(-x)), elementwise."),
  tanh: unary("tanh", 4, "tanh(x), elementwise."),
  upsample: {
    layer: true,
    params: [
      { name: "x", type: T.tensor },
      { name: "factor", type: T.int, default: int(2) },
    ],
    doc: "Nearest-neighbour upsampling of an image by an integer factor.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      if (!requireKind(ctx, x, [3], "upsample")) return POISON;
      const f = positive(ctx, a, "factor", "the upsampling factor");
      if (f === undefined) return POISON;
      return ctx.node("upsample", [x], { factor: f }, [x.shape[0], x.shape[1] * f, x.shape[2] * f], { flops: 0 });
    },
  },
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
  tap: {
    layer: false,
    params: [
      { name: "x", type: T.tensor },
      { name: "name", type: T.str, default: { t: "str", v: "features" } },
    ],
    doc: "Returns x unchanged and exposes it as a named output of the compiled model (in eval mode), e.g. the penultimate features that FID reads: `h = tap(flatten(h), \"features\")`.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      const name = a.name.t === "str" ? a.name.v : "";
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === "output" || name === "loss") {
        return ctx.error("E0201", `a tap's name must be an identifier other than \`output\` and \`loss\`, found "${name}"`, { span: ctx.argSpan("name") });
      }
      return ctx.node("tap", [x], { name }, [...x.shape], { flops: 0 });
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
  attention: {
    layer: false,
    params: [
      { name: "qkv", type: T.tensor },
      { name: "head_dim", type: T.int, default: NONE },
      { name: "heads", type: T.int, default: NONE },
      { name: "layout", type: T.enumOf("per_head", "blocks"), default: { t: "str", v: "per_head" } },
    ],
    doc: "Multi-head softmax(QK^T / sqrt(d)) V over tokens [S, 3C] -> [S, C]. layout per_head: each head's features are [q_h | k_h | v_h] (the course's fused qkv); layout blocks: [q | k | v], each split into heads (concat of separate projections, as diffusers). Give exactly one of head_dim (channels per head) and heads.",
    apply: (ctx, a) => {
      const qkv = tensor(a.qkv);
      if (!requireKind(ctx, qkv, [2], "attention", "qkv")) return POISON;
      const [s, c3] = qkv.shape;
      if (c3 % 3 !== 0) return ctx.error("E0303", `attention needs q, k and v: features must be a multiple of 3, found ${c3}`, { span: ctx.argSpan("qkv") });
      const c = c3 / 3;
      if ((a.head_dim.t === "none") === (a.heads.t === "none")) {
        return ctx.error("E0106", "attention takes exactly one of `head_dim` and `heads`", { span: ctx.span, help: "`head_dim` is the number of channels per head (the course's attn_chans); heads = channels / head_dim" });
      }
      const given = a.heads.t !== "none" ? positive(ctx, a, "heads", "the number of heads") : positive(ctx, a, "head_dim", "the channels per head");
      if (given === undefined) return POISON;
      const heads = a.heads.t !== "none" ? given : c / given;
      if (!Number.isInteger(heads) || heads < 1 || c % heads !== 0) {
        const by = a.heads.t !== "none" ? `${num(a.heads)} heads` : `heads of ${num(a.head_dim)} channels`;
        return ctx.error("E0303", `${c} channels do not divide into ${by}`, {
          span: ctx.span,
          label: `${c} channels here`,
          help: a.heads.t !== "none" ? "use a number of heads that divides the channel count" : "use an attn_chans (channels per head) that divides every width that gets attention",
        });
      }
      const layout = a.layout.t === "str" ? a.layout.v : "per_head";
      return ctx.node("attention", [qkv], { heads, layout }, [s, c], { flops: 4 * s * s * c + 5 * heads * s * s });
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
  param: {
    layer: true,
    params: [
      { name: "shape", type: T.ints },
      { name: "init", type: T.enumOf("zeros", "ones", "normal"), default: { t: "str", v: "zeros" } },
    ],
    doc: "A learned tensor of the given per-sample shape, named by `as NAME` (the full parameter name is the path).",
    apply: (ctx, a) => {
      if (!ctx.named) return ctx.error("E0501", "a `param` needs a name", { span: ctx.span, help: "write `param([16, 64]) as scale`" });
      const shape = a.shape.t === "list" ? a.shape.items.map(num) : [];
      if (shape.some((d) => !(d >= 1))) return ctx.error("E0201", `param shape must be positive sizes, found ${shapeText(shape)}`, { span: ctx.argSpan("shape") });
      const init: ParamInit = a.init.t === "str" && a.init.v === "ones" ? { kind: "ones" } : a.init.t === "str" && a.init.v === "normal" ? { kind: "normal", std: 1 } : { kind: "zeros" };
      return ctx.paramNode(shape, init);
    },
  },
};

/** Plain functions over numbers, lists and shapes; they create no layers. `fail` reports at the
 *  call (E0201 unless another code is given) and returns poison. */
export interface BuiltinFunction {
  doc: string;
  minArgs: number;
  maxArgs: number;
  apply(args: Value[], fail: (message: string, code?: DiagnosticCode) => Value): Value;
}

const shapeFn = (doc: string, pick: (shape: number[]) => number | undefined): BuiltinFunction => ({
  doc,
  minArgs: 1,
  maxArgs: 1,
  apply: ([x], fail) => {
    if (x.t !== "tensor") return fail(`expected a tensor, found ${describeValue(x)}`);
    const v = pick(x.shape);
    return v === undefined ? fail(`${describeValue(x)} has no such axis`) : int(v);
  },
});

const numbers = (args: Value[]): number[] | undefined => {
  const flat = args.length === 1 && args[0].t === "list" ? args[0].items : args;
  return flat.every((v) => v.t === "int" || v.t === "float") ? flat.map(num) : undefined;
};

export const FUNCTIONS: Record<string, BuiltinFunction> = {
  len: {
    doc: "Length of a list.",
    minArgs: 1,
    maxArgs: 1,
    apply: ([x], fail) => (x.t === "list" ? int(x.items.length) : fail(`len takes a list, found ${describeValue(x)}`)),
  },
  range: {
    doc: "range(n) or range(start, end): the ints start .. end-1.",
    minArgs: 1,
    maxArgs: 2,
    apply: (args, fail) => {
      if (!args.every((v) => v.t === "int")) return fail("range takes ints");
      const [a, b] = args.length === 1 ? [0, num(args[0])] : [num(args[0]), num(args[1])];
      if (b - a > MAX_RANGE) return fail(`${thousands(b - a)} items are more than the limit of ${thousands(MAX_RANGE)}`, "E0604");
      return list(Array.from({ length: Math.max(0, b - a) }, (_, i) => int(a + i)));
    },
  },
  reversed: {
    doc: "The list in reverse order.",
    minArgs: 1,
    maxArgs: 1,
    apply: ([x], fail) => (x.t === "list" ? list([...x.items].reverse(), x.origin) : fail(`reversed takes a list, found ${describeValue(x)}`)),
  },
  min: {
    doc: "Smallest of numbers (or of one list).",
    minArgs: 1,
    maxArgs: 64,
    apply: (args, fail) => {
      const ns = numbers(args);
      if (!ns || ns.length === 0) return fail("min takes numbers");
      const m = Math.min(...ns);
      return Number.isInteger(m) && args.every((v) => v.t !== "float") ? int(m) : { t: "float", v: m };
    },
  },
  max: {
    doc: "Largest of numbers (or of one list).",
    minArgs: 1,
    maxArgs: 64,
    apply: (args, fail) => {
      const ns = numbers(args);
      if (!ns || ns.length === 0) return fail("max takes numbers");
      const m = Math.max(...ns);
      return Number.isInteger(m) && args.every((v) => v.t !== "float") ? int(m) : { t: "float", v: m };
    },
  },
  channels: shapeFn("Channels of an image, features of tokens or a vector.", (s) => (s.length ? channelsOf(s) : undefined)),
  num_tokens: shapeFn("Number of tokens S of tokens [S, C].", (s) => (s.length === 2 ? s[0] : undefined)),
  height: shapeFn("Height of an image.", (s) => (s.length === 3 ? s[1] : undefined)),
  width: shapeFn("Width of an image.", (s) => (s.length === 3 ? s[2] : undefined)),
};

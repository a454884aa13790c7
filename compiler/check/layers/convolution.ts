// Spatial layers of images: convolution and nearest-neighbour upsampling.
import { int, NONE, POISON, shapeText } from "../values.js";
import { T } from "../types.js";
import { fanIn, num, positive, requireKind, tensor, type Builtin, type LocalParam } from "./signature.js";

export const CONVOLUTION = {
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
} satisfies Record<string, Builtin>;

// Elementwise activations and the timestep embedding (a function of a scalar, no parameters).
import { numel } from "../model-graph.js";
import { describeValue } from "../values.js";
import { T } from "../types.js";
import { num, tensor, type Builtin } from "./signature.js";
import type { UnaryKind } from "../layer-kinds.js";

function unary(op: UnaryKind, flopsPerElement: number, doc: string): Builtin {
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


export const ACTIVATIONS = {
  silu: unary("silu", 4, "x * sigmoid(x), elementwise."),
  gelu: unary("gelu", 8, "Gaussian error linear unit (exact erf form), elementwise."),
  relu: unary("relu", 1, "max(x, 0), elementwise."),
  sigmoid: unary("sigmoid", 3, "1 / (1 + exp(-x)), elementwise."),
  tanh: unary("tanh", 4, "tanh(x), elementwise."),
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
} satisfies Record<string, Builtin>;

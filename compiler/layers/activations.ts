// Elementwise activations and the sinusoidal timestep embedding.
import { BUILTINS, type Builtin } from "../check/layers/index.js";
import type { UnaryKind } from "../check/model-graph.js";
import type { GraphBuilder } from "../graph/builder.js";
import * as C from "../graph/composites/index.js";
import type { Value } from "../ir/value.js";
import { batched, like, type LayerDef, type LayerTable } from "./def.js";

/** Sinusoidal embedding t [B] -> [B, dim]: t * exp(-ln(P) k / (half - shift)) as [sin | cos].
 *  Not composites' sinusoidalEmbedding: that one rounds each step of the frequency table to
 *  float32 as torch does (and takes linspace for the course's form), which gives other constants
 *  in the last bit; this one computes them in float64, as the compiler always has. */
function sinusoidal(b: GraphBuilder, t: Value, dim: number, maxPeriod: number, freqShift: number, flip: boolean): Value {
  const half = Math.floor(dim / 2);
  const freqs = Array.from({ length: half }, (_, k) => Math.exp((-Math.log(maxPeriod) * k) / (half - freqShift)));
  const args = b.mul(b.reshape(t, [t.shape[0], 1]), b.constant(freqs, [1, half]));
  const parts = flip ? [b.cos(args), b.sin(args)] : [b.sin(args), b.cos(args)];
  const emb = b.concat(parts, 1);
  return dim % 2 === 1 ? b.pad(emb, [0, 0], [0, 1]) : emb;
}

const ACTIVATION: { readonly [K in UnaryKind]: (b: GraphBuilder, x: Value) => Value } = {
  silu: (b, x) => C.silu(b, x),
  gelu: (b, x) => C.gelu(b, x),
  relu: (b, x) => b.relu(x),
  sigmoid: (b, x) => b.sigmoid(x),
  tanh: (b, x) => b.tanh(x),
};

function activation<K extends UnaryKind>(kind: K): LayerDef<K> {
  const check: Builtin = BUILTINS[kind];
  return {
    check,
    lower: (cx, n) => {
      const x = cx.get(n.inputs[0]);
      return like(x, ACTIVATION[kind](cx.b, x.v));
    },
  };
}

export const ACTIVATIONS: Pick<LayerTable, UnaryKind | "sinusoidal"> = {
  silu: activation("silu"),
  gelu: activation("gelu"),
  relu: activation("relu"),
  sigmoid: activation("sigmoid"),
  tanh: activation("tanh"),
  sinusoidal: {
    check: BUILTINS.sinusoidal,
    lower: (cx, n) => {
      const a = n.attrs;
      return batched(sinusoidal(cx.b, cx.get(n.inputs[0]).v, a.dim, a.max_period, a.freq_shift, a.flip === true));
    },
  },
};

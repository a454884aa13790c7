// The course's timestep embedding:
//   exponent = -ln(max_period) * linspace(0, 1, dim // 2)
//   emb = t[:, None] * exp(exponent)[None, :];  [sin(emb) | cos(emb)], zero column if dim odd

import type { GraphBuilder } from "../builder.js";
import type { Value } from "../value.js";

const f32 = Math.fround;

/** torch.linspace(0, 1, steps) in float32, computed from both ends as ATen does. */
function linspace01(steps: number): number[] {
  if (steps === 1) return [0];
  const step = f32(1 / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < half ? f32(step * i) : f32(1 - f32(step * (steps - i - 1)))));
}

/** exp(-ln(maxPeriod) * linspace(0, 1, half)), rounded to float32 at each step as torch does. */
export function sinusoidalFrequencies(half: number, maxPeriod: number): number[] {
  const scale = f32(-Math.log(maxPeriod));
  return linspace01(half).map((x) => f32(Math.exp(f32(scale * x))));
}

/** t [N] (f32 or i32) -> [N, dim]. */
export function sinusoidalEmbedding(b: GraphBuilder, t: Value, dim: number, maxPeriod = 10000): Value {
  const half = Math.floor(dim / 2);
  const [n] = t.shape;
  const freqs = b.constant(sinusoidalFrequencies(half, maxPeriod), [1, half]);
  const args = b.mul(b.reshape(b.cast(t, "f32"), [n, 1]), freqs); // [N, half]
  const emb = b.concat([b.sin(args), b.cos(args)], 1); // [N, 2*half]
  return dim % 2 === 1 ? b.pad(emb, [0, 0], [0, 1]) : emb;
}

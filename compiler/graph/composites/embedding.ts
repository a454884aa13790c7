// Sinusoidal timestep embeddings.
// The course (default):
//   exponent = -ln(max_period) * linspace(0, 1, dim // 2)
//   emb = t[:, None] * exp(exponent)[None, :];  [sin(emb) | cos(emb)], zero column if dim odd
// diffusers' get_timestep_embedding (pass freqShift, and flipSinToCos for UNet2DModel):
//   exponent = -ln(max_period) * arange(dim // 2) / (dim // 2 - freq_shift)
//   [sin | cos], or [cos | sin] when flip_sin_to_cos
// The frequency table is a graph constant, rounded to float32 at each step as torch computes it.

import type { GraphBuilder } from "../builder.js";
import type { Value } from "../../ir/value.js";

const f32 = Math.fround;

export interface SinusoidalOptions {
  /** diffusers' downscale_freq_shift; omit for the course's linspace form. */
  readonly freqShift?: number;
  /** [cos | sin] instead of [sin | cos] (diffusers' flip_sin_to_cos). */
  readonly flipSinToCos?: boolean;
}

/** torch.linspace(0, 1, steps) in float32, computed from both ends as ATen does. */
function linspace01(steps: number): number[] {
  if (steps === 1) return [0];
  const step = f32(1 / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < half ? f32(step * i) : f32(1 - f32(step * (steps - i - 1)))));
}

/** The `half` frequencies exp(exponent) of the embedding. */
export function sinusoidalFrequencies(half: number, maxPeriod: number, freqShift?: number): number[] {
  const scale = f32(-Math.log(maxPeriod));
  const exponents =
    freqShift === undefined
      ? linspace01(half).map((x) => f32(scale * x))
      : Array.from({ length: half }, (_, k) => f32(f32(scale * k) / f32(half - freqShift)));
  return exponents.map((e) => f32(Math.exp(e)));
}

/** t [N] (f32 or i32) -> [N, dim]. */
export function sinusoidalEmbedding(b: GraphBuilder, t: Value, dim: number, maxPeriod = 10000, opts: SinusoidalOptions = {}): Value {
  const half = Math.floor(dim / 2);
  const [n] = t.shape;
  const freqs = b.constant(sinusoidalFrequencies(half, maxPeriod, opts.freqShift), [1, half]);
  const args = b.mul(b.reshape(b.cast(t, "f32"), [n, 1]), freqs); // [N, half]
  const [sin, cos] = [b.sin(args), b.cos(args)];
  const emb = b.concat(opts.flipSinToCos ? [cos, sin] : [sin, cos], 1); // [N, 2*half]
  return dim % 2 === 1 ? b.pad(emb, [0, 0], [0, 1]) : emb;
}

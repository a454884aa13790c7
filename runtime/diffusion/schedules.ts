// Noise schedules and the training-time "noisify" of fast.ai lesson 24 (LESSON.md §2):
//   cosine (nb 28):  abar(t) = cos(t*pi/2)^2, t ~ U[0,1) clamped to [0, 0.999],
//                    xt = sqrt(abar)*x0 + sqrt(1-abar)*eps, the model predicts eps from (xt, t).
//   Karras (nb 26):  sigma = exp(randn*1.2 - 1.2), the model sees ((x0 + sigma*n)*c_in, sigma)
//                    and regresses the preconditioned target (x0 - c_skip*noised)/c_out.
// Both return the same shape of thing (model inputs x and t, regression target), so a training
// loop needs no schedule-specific code. Arithmetic is in float64, stored as float32.
import { Rng } from "./rng.js";

export type ScheduleKind = "cosine" | "karras";

/** The data range each schedule's recipe scales images to (LESSON.md §2 "Data"). */
export const SCHEDULE_DATA_RANGE: Readonly<Record<ScheduleKind, readonly [number, number]>> = {
  cosine: [-0.5, 0.5],
  karras: [-1, 1],
};

/** The lesson's t clamp: t = rand().clamp(0, 0.999). */
export const COSINE_T_MAX = 0.999;
/** sigma_data of the Karras recipe for Fashion-MNIST in [-1, 1]. */
export const KARRAS_SIGMA_DATA = 0.66;
/** Log-normal sigma of the Karras recipe: sigma = exp(randn*P_STD + P_MEAN). */
export const KARRAS_P_MEAN = -1.2;
export const KARRAS_P_STD = 1.2;

/** One training batch after noisify: what goes into the model and what it should output. */
export interface NoisedBatch {
  /** Model image input [B, ...] (xt for cosine; (x0 + sigma*n)*c_in for Karras). */
  readonly x: Float32Array;
  /** Model noise-level input [B] (t in [0, 0.999] for cosine; raw sigma for Karras). */
  readonly t: Float32Array;
  /** Regression target [B, ...] (eps for cosine; the preconditioned target for Karras). */
  readonly target: Float32Array;
}

/** Preallocated outputs, so a training loop can noisify without allocating per step. */
export interface NoisedBuffers {
  readonly x: Float32Array;
  readonly t: Float32Array;
  readonly target: Float32Array;
}

/** Cosine schedule: abar(t) = cos(t*pi/2)^2. */
export function abar(t: number): number {
  const c = Math.cos((t * Math.PI) / 2);
  return c * c;
}

export interface KarrasScalings {
  readonly cSkip: number;
  readonly cOut: number;
  readonly cIn: number;
}

/** The lesson's `scalings(sig)`: totvar = sigma^2 + sd^2; c_skip = sd^2/totvar, c_out = sigma*sd/sqrt(totvar), c_in = 1/sqrt(totvar). */
export function karrasScalings(sigma: number, sigmaData = KARRAS_SIGMA_DATA): KarrasScalings {
  const totvar = sigma * sigma + sigmaData * sigmaData;
  return {
    cSkip: (sigmaData * sigmaData) / totvar,
    cOut: (sigma * sigmaData) / Math.sqrt(totvar),
    cIn: 1 / Math.sqrt(totvar),
  };
}

function perSample(x0: Float32Array, batch: number): number {
  if (!Number.isInteger(batch) || batch <= 0 || x0.length % batch !== 0) {
    throw new RangeError(`noisify: ${x0.length} values do not split into a batch of ${batch}`);
  }
  return x0.length / batch;
}

function buffers(x0: Float32Array, batch: number, out: NoisedBuffers | undefined): NoisedBuffers {
  if (!out) {
    return { x: new Float32Array(x0.length), t: new Float32Array(batch), target: new Float32Array(x0.length) };
  }
  if (out.x.length !== x0.length || out.target.length !== x0.length || out.t.length !== batch) {
    throw new RangeError("noisify: the output buffers do not match the batch");
  }
  return out;
}

/**
 * Cosine noisify (LESSON.md §2). Draw order, for reproducibility: B uniforms for t, then the
 * eps tensor with `rng.fillNormal`.
 */
export function cosineNoisify(x0: Float32Array, batch: number, rng: Rng, out?: NoisedBuffers): NoisedBatch {
  const n = perSample(x0, batch);
  const o = buffers(x0, batch, out);
  for (let b = 0; b < batch; b++) o.t[b] = Math.min(Math.max(rng.uniform(), 0), COSINE_T_MAX);
  rng.fillNormal(o.target); // eps is the target
  for (let b = 0; b < batch; b++) {
    const a = abar(o.t[b]);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    for (let i = b * n, end = i + n; i < end; i++) o.x[i] = sa * x0[i] + sb * o.target[i];
  }
  return o;
}

/**
 * Karras noisify (LESSON.md §2, nb 26). Draw order: B normals for log-sigma (`rng.normal()`),
 * then the noise tensor with `rng.fillNormal`.
 */
export function karrasNoisify(
  x0: Float32Array,
  batch: number,
  rng: Rng,
  out?: NoisedBuffers,
  sigmaData = KARRAS_SIGMA_DATA,
): NoisedBatch {
  const n = perSample(x0, batch);
  const o = buffers(x0, batch, out);
  for (let b = 0; b < batch; b++) o.t[b] = Math.exp(rng.normal() * KARRAS_P_STD + KARRAS_P_MEAN);
  const noise = rng.fillNormal(o.target); // the noise is drawn into target, then overwritten in place
  for (let b = 0; b < batch; b++) {
    const sigma = o.t[b]; // float32-rounded, as the model will see it
    const { cSkip, cOut, cIn } = karrasScalings(sigma, sigmaData);
    for (let i = b * n, end = i + n; i < end; i++) {
      const noised = x0[i] + sigma * noise[i];
      o.x[i] = noised * cIn;
      o.target[i] = (x0[i] - cSkip * noised) / cOut;
    }
  }
  return o;
}

/** Dispatch on the schedule. */
export function noisify(kind: ScheduleKind, x0: Float32Array, batch: number, rng: Rng, out?: NoisedBuffers): NoisedBatch {
  return kind === "cosine" ? cosineNoisify(x0, batch, rng, out) : karrasNoisify(x0, batch, rng, out);
}

/**
 * k-diffusion's `sigmas_karras(n, sigma_min, sigma_max, rho)` with the final 0 appended
 * (n + 1 values): sigma_i = (max^(1/rho) + i/(n-1) * (min^(1/rho) - max^(1/rho)))^rho.
 */
export function sigmasKarras(n: number, sigmaMin = 0.01, sigmaMax = 80, rho = 7): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`sigmasKarras: n must be a positive integer, got ${n}`);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ramp = n === 1 ? 0 : i / (n - 1); // torch.linspace(0, 1, 1) is [0]
    out[i] = (maxInv + ramp * (minInv - maxInv)) ** rho;
  }
  out[n] = 0;
  return out;
}

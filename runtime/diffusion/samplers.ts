// Samplers of fast.ai lesson 24 (LESSON.md §3), written against an abstract denoiser so the
// same code runs on the GPU model, the reference interpreter or a test oracle.
//   cosine models (predict eps from (x_t, t)): DDIM with eta (`ddim_step`, nb 28), DDPM = eta 1;
//   Karras models (preconditioned, see schedules.ts): Euler, Euler-ancestral, Heun and LMS over
//   `sigmas_karras` (nb 23 / nb 26; k-diffusion's formulas).
// Scalars are float64; images are float32. The noise level passed to the model is the same for
// every sample of a batch (the lesson broadcasts a shape-(1,) t), given as a [B] array.
import { Rng } from "./rng.js";
import { abar, karrasScalings, KARRAS_SIGMA_DATA, sigmasKarras, type ScheduleKind } from "./schedules.js";

/**
 * The model: image batch x [B, ...] and noise level t [B] (t for cosine, raw sigma for Karras),
 * optional class labels c [B]; returns its raw output [B, ...] (eps for cosine; the
 * preconditioned output F for Karras). It must not keep or modify `x` or `t` after resolving.
 */
export type Denoiser = (x: Float32Array, t: Float32Array, c?: Int32Array) => Promise<Float32Array>;

export interface SampleOptions {
  /** [B, C, H, W] (any rank >= 1 works: the first axis is the batch). */
  readonly shape: readonly number[];
  readonly steps: number;
  /** Seeds a fresh Rng; ignored when `rng` is given. Default 0. */
  readonly seed?: number;
  readonly rng?: Rng;
  /** Class labels [B] for conditional models. */
  readonly classes?: Int32Array;
  /** Keep a copy of each step's prediction (DDIM: x0_hat; Karras: x), as the lesson's `preds`. */
  readonly keepIntermediates?: boolean;
  /** Called after each step (i from 0 to total-1), for progress bars. */
  readonly onStep?: (i: number, total: number) => void;
}

export interface SampleResult {
  /** The final sample in the data's scale (cosine: about [-0.5, 0.5]; Karras: [-1, 1]). */
  readonly x0: Float32Array;
  /** Per-step predictions when `keepIntermediates` was set. */
  readonly intermediates?: Float32Array[];
  /** Number of model evaluations made. */
  readonly evaluations: number;
}

function numel(shape: readonly number[]): number {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new RangeError(`sample: bad shape [${shape.join(", ")}]`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

function checkOptions(o: SampleOptions): { size: number; batch: number; rng: Rng } {
  const size = numel(o.shape);
  const batch = o.shape[0];
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError(`sample: steps must be a positive integer, got ${o.steps}`);
  if (o.classes && o.classes.length !== batch) {
    throw new RangeError(`sample: ${o.classes.length} class labels for a batch of ${batch}`);
  }
  return { size, batch, rng: o.rng ?? new Rng(o.seed ?? 0) };
}

function checkOutput(out: Float32Array, size: number): Float32Array {
  if (out.length !== size) throw new RangeError(`sample: the denoiser returned ${out.length} values, expected ${size}`);
  return out;
}

// ---- DDIM / DDPM (cosine schedule) ----------------------------------------------------------

export interface DdimStepOptions {
  readonly eta: number;
  /** Clamp x0_hat to [-1, 1] (the lesson's default). */
  readonly clamp?: boolean;
  /** The fresh noise z added as sig*z; drawn from `rng` when absent. */
  readonly z?: Float32Array;
  readonly rng?: Rng;
}

export interface DdimStepResult {
  readonly x0Hat: Float32Array;
  readonly xNext: Float32Array;
  /** The sigma actually used (0 after the `bbar_t1 <= sig^2 + 0.01` rule). */
  readonly sigma: number;
}

/** The lesson's eta-DDIM noise scale: sig = sqrt(bbar_t1/bbar_t) * sqrt(1 - abar_t/abar_t1) * eta. */
export function ddimSigma(abarT: number, abarT1: number, eta: number): number {
  const bbarT = 1 - abarT;
  const bbarT1 = 1 - abarT1;
  return Math.sqrt(bbarT1 / bbarT) * Math.sqrt(1 - abarT / abarT1) * eta;
}

/**
 * One step of the lesson's `ddim_step` (LESSON.md §3):
 *   sig = ddimSigma(abar_t, abar_t1, eta)
 *   x0_hat = (x_t - sqrt(1-abar_t)*noise) / sqrt(abar_t), clamped to [-1, 1] if `clamp`
 *   if bbar_t1 <= sig^2 + 0.01: sig = 0
 *   x_t1 = sqrt(abar_t1)*x0_hat + sqrt(bbar_t1 - sig^2)*noise + sig*z
 * One deliberate difference: the lesson's comment says the rule also zeroes a NaN sig, but in
 * torch `bbar_t1 <= NaN` is False, so its last step (t = 0, bbar_t = bbar_t1 = 0, sig = 0/0)
 * yields a NaN x_t1. Here NaN sig is zeroed as the comment intends. Only that final, unused
 * x_t1 differs; x0_hat (what the sampler returns) is the same.
 */
export function ddimStep(
  xt: Float32Array,
  noise: Float32Array,
  abarT: number,
  abarT1: number,
  options: DdimStepOptions,
): DdimStepResult {
  const n = xt.length;
  if (noise.length !== n) throw new RangeError(`ddimStep: noise has ${noise.length} values, x_t has ${n}`);
  const bbarT1 = 1 - abarT1;
  let sig = ddimSigma(abarT, abarT1, options.eta);
  if (Number.isNaN(sig) || bbarT1 <= sig * sig + 0.01) sig = 0;
  const clamp = options.clamp ?? true;
  const sqrtAbarT = Math.sqrt(abarT);
  const sqrtBbarT = Math.sqrt(1 - abarT);
  const sqrtAbarT1 = Math.sqrt(abarT1);
  const noiseCoef = Math.sqrt(bbarT1 - sig * sig);
  let z = options.z;
  if (sig !== 0 && !z) {
    if (!options.rng) throw new Error("ddimStep: sigma > 0 needs `z` or `rng`");
    z = options.rng.fillNormal(new Float32Array(n));
  }
  if (z && z.length !== n) throw new RangeError(`ddimStep: z has ${z.length} values, x_t has ${n}`);
  const x0Hat = new Float32Array(n);
  const xNext = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x0 = (xt[i] - sqrtBbarT * noise[i]) / sqrtAbarT;
    if (clamp) x0 = Math.min(Math.max(x0, -1), 1);
    x0Hat[i] = x0;
    xNext[i] = sqrtAbarT1 * x0 + noiseCoef * noise[i] + (sig !== 0 && z ? sig * z[i] : 0);
  }
  return { x0Hat, xNext, sigma: sig };
}

/** The lesson's time grid: torch.linspace(1 - 1/steps, 0, steps). */
export function ddimTimesteps(steps: number): Float64Array {
  const start = 1 - 1 / steps;
  const ts = new Float64Array(steps);
  for (let i = 0; i < steps; i++) ts[i] = steps === 1 ? start : start + (i * (0 - start)) / (steps - 1);
  return ts;
}

/** abar at the next (smaller) time: abar(t - 1/steps) if t >= 1/steps, else 1. */
export function ddimNextAbar(t: number, steps: number): number {
  // The grid puts the second-to-last t at 1/steps up to rounding; the tolerance keeps it on the
  // abar(~0) side of the branch either way (the two sides differ by ~1e-15 there).
  return t >= 1 / steps - 1e-9 ? abar(t - 1 / steps) : 1;
}

export interface DdimOptions extends SampleOptions {
  /** 0 = deterministic DDIM, 1 = the lesson's default (DDPM-like). */
  readonly eta: number;
  readonly clamp?: boolean;
}

/**
 * The lesson's `sample(ddim_step, model, sz, steps, eta)`: x_T ~ N(0, 1), then `steps` steps of
 * `ddimStep` on ts = linspace(1-1/steps, 0, steps). Returns the last x0_hat (the lesson's
 * `preds[-1]`), in the data's [-0.5, 0.5] scale: multiply by 2 for [-1, 1].
 * Draw order: x_T with `fillNormal`, then each step's z (only when its sigma > 0).
 */
export async function sampleDdim(model: Denoiser, o: DdimOptions): Promise<SampleResult> {
  const { size, batch, rng } = checkOptions(o);
  const ts = ddimTimesteps(o.steps);
  let x = rng.fillNormal(new Float32Array(size));
  const tArr = new Float32Array(batch);
  const intermediates: Float32Array[] = [];
  let x0 = x;
  for (let i = 0; i < o.steps; i++) {
    const t = ts[i];
    tArr.fill(t);
    const noise = checkOutput(await model(x, tArr, o.classes), size);
    const step = ddimStep(x, noise, abar(t), ddimNextAbar(t, o.steps), { eta: o.eta, clamp: o.clamp ?? true, rng });
    x = step.xNext;
    x0 = step.x0Hat;
    if (o.keepIntermediates) intermediates.push(step.x0Hat);
    o.onStep?.(i, o.steps);
  }
  return { x0, evaluations: o.steps, ...(o.keepIntermediates ? { intermediates } : {}) };
}

/** DDPM as the lesson runs it: the DDIM step with eta = 1. */
export function sampleDdpm(model: Denoiser, o: SampleOptions & { readonly clamp?: boolean }): Promise<SampleResult> {
  return sampleDdim(model, { ...o, eta: 1 });
}

// ---- Karras samplers --------------------------------------------------------------------------

export type KarrasSamplerKind = "euler" | "euler_ancestral" | "heun" | "lms";

export interface KarrasOptions extends SampleOptions {
  readonly sampler: KarrasSamplerKind;
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;
  readonly rho?: number;
  readonly sigmaData?: number;
  /** Euler-ancestral: the fraction of ancestral noise (default 1). */
  readonly eta?: number;
  /** Heun: s_churn (default 0, the lesson's runs). */
  readonly churn?: number;
  /** LMS: the order (default 4, nb 26 used 3). */
  readonly order?: number;
}

/** k-diffusion's `get_ancestral_step`: split a step into a deterministic part and fresh noise. */
export function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): { sigmaDown: number; sigmaUp: number } {
  if (!eta) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  const varTo = sigmaTo * sigmaTo;
  const varFrom = sigmaFrom * sigmaFrom;
  const sigmaUp = Math.min(sigmaTo, eta * Math.sqrt((varTo * (varFrom - varTo)) / varFrom));
  return { sigmaDown: Math.sqrt(varTo - sigmaUp * sigmaUp), sigmaUp };
}

// 4-point Gauss-Legendre on [-1, 1]: exact for polynomials up to degree 7, so exact for the
// Lagrange basis polynomials of LMS up to order 8 (scipy's `quad` is what the lesson used).
const GL_X = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_W = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/**
 * k-diffusion's `linear_multistep_coeff(order, t, i, j)`: the integral over [t[i], t[i+1]] of
 * the Lagrange basis polynomial through t[i], t[i-1], ..., t[i-order+1] that is 1 at t[i-j].
 */
export function lmsCoefficient(order: number, t: Float64Array, i: number, j: number): number {
  if (order - 1 > i) throw new RangeError(`lmsCoefficient: order ${order} too high for step ${i}`);
  if (order > 8) throw new RangeError("lmsCoefficient: order above 8 is not supported");
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (k === j) continue;
      prod *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    }
    return prod;
  };
  const a = t[i];
  const b = t[i + 1];
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  let sum = 0;
  for (let q = 0; q < GL_X.length; q++) sum += GL_W[q] * basis(mid + half * GL_X[q]);
  return sum * half;
}

/**
 * Karras-family sampling (LESSON.md §3): x = randn*sigma_max, sigmas = sigmasKarras(steps,
 * sigma_min=0.01, sigma_max=80, rho=7) + [0], denoise(x, s) = model(x*c_in, s)*c_out + x*c_skip.
 * Returns the final x (already in the data's [-1, 1] scale).
 * Heun with churn > 0 follows k-diffusion (denoise at sigma_hat); the lesson's copy denoises at
 * sigma, which only matters when churn > 0.
 */
export async function sampleKarras(model: Denoiser, o: KarrasOptions): Promise<SampleResult> {
  const { size, batch, rng } = checkOptions(o);
  const sigmaMax = o.sigmaMax ?? 80;
  const sigmaData = o.sigmaData ?? KARRAS_SIGMA_DATA;
  const sigmas = sigmasKarras(o.steps, o.sigmaMin ?? 0.01, sigmaMax, o.rho ?? 7);
  const tArr = new Float32Array(batch);
  const input = new Float32Array(size);
  let evaluations = 0;

  const denoise = async (x: Float32Array, sigma: number): Promise<Float32Array> => {
    const { cSkip, cOut, cIn } = karrasScalings(sigma, sigmaData);
    for (let i = 0; i < size; i++) input[i] = x[i] * cIn;
    tArr.fill(sigma);
    const f = checkOutput(await model(input, tArr, o.classes), size);
    evaluations++;
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = f[i] * cOut + x[i] * cSkip;
    return out;
  };
  // d = (x - denoised)/sigma: the ODE's derivative dx/dsigma.
  const derivative = (x: Float32Array, den: Float32Array, sigma: number): Float32Array => {
    const d = new Float32Array(size);
    for (let i = 0; i < size; i++) d[i] = (x[i] - den[i]) / sigma;
    return d;
  };

  let x = rng.fillNormal(new Float32Array(size), sigmaMax);
  const intermediates: Float32Array[] = [];
  const ds: Float32Array[] = []; // LMS history, newest last
  const order = o.order ?? 4;
  const total = sigmas.length - 1;
  for (let i = 0; i < total; i++) {
    const sig = sigmas[i];
    const sig2 = sigmas[i + 1];
    const next = new Float32Array(size);
    switch (o.sampler) {
      case "euler": {
        const d = derivative(x, await denoise(x, sig), sig);
        for (let k = 0; k < size; k++) next[k] = x[k] + d[k] * (sig2 - sig);
        break;
      }
      case "euler_ancestral": {
        const d = derivative(x, await denoise(x, sig), sig);
        const { sigmaDown, sigmaUp } = ancestralStep(sig, sig2, o.eta ?? 1);
        const z = sigmaUp > 0 ? rng.fillNormal(new Float32Array(size)) : undefined;
        for (let k = 0; k < size; k++) next[k] = x[k] + d[k] * (sigmaDown - sig) + (z ? z[k] * sigmaUp : 0);
        break;
      }
      case "heun": {
        const gamma = Math.min((o.churn ?? 0) / total, Math.SQRT2 - 1);
        const sigHat = sig * (gamma + 1);
        let xs = x;
        if (gamma > 0) {
          const z = rng.fillNormal(new Float32Array(size));
          const s = Math.sqrt(sigHat * sigHat - sig * sig);
          xs = new Float32Array(size);
          for (let k = 0; k < size; k++) xs[k] = x[k] + z[k] * s;
        }
        const d = derivative(xs, await denoise(xs, sigHat), sigHat);
        const dt = sig2 - sigHat;
        for (let k = 0; k < size; k++) next[k] = xs[k] + d[k] * dt;
        if (sig2 !== 0) {
          const d2 = derivative(next, await denoise(next, sig2), sig2);
          for (let k = 0; k < size; k++) next[k] = xs[k] + ((d[k] + d2[k]) / 2) * dt;
        }
        break;
      }
      case "lms": {
        ds.push(derivative(x, await denoise(x, sig), sig));
        if (ds.length > order) ds.shift();
        const cur = Math.min(i + 1, order);
        next.set(x);
        for (let j = 0; j < cur; j++) {
          const c = lmsCoefficient(cur, sigmas, i, j);
          const d = ds[ds.length - 1 - j];
          for (let k = 0; k < size; k++) next[k] += c * d[k];
        }
        break;
      }
      default: {
        const never: never = o.sampler;
        throw new Error(`unknown Karras sampler ${String(never)}`);
      }
    }
    x = next;
    if (o.keepIntermediates) intermediates.push(x);
    o.onStep?.(i, total);
  }
  return { x0: x, evaluations, ...(o.keepIntermediates ? { intermediates } : {}) };
}

// ---- one entry point for the CLI ---------------------------------------------------------------

export type SamplerKind = "ddim" | "ddpm" | KarrasSamplerKind;
export const SAMPLERS: readonly SamplerKind[] = ["ddim", "ddpm", "euler", "euler_ancestral", "heun", "lms"];

/** Which schedule a sampler needs its model trained with. */
export function samplerSchedule(kind: SamplerKind): ScheduleKind {
  return kind === "ddim" || kind === "ddpm" ? "cosine" : "karras";
}

export interface AnySamplerOptions extends SampleOptions {
  readonly sampler: SamplerKind;
  /** DDIM's eta (default 1, the lesson's); Euler-ancestral's eta (default 1). DDPM forces 1. */
  readonly eta?: number;
  readonly clamp?: boolean;
  readonly churn?: number;
  readonly order?: number;
}

/**
 * Runs any sampler. The result is mapped to [-1, 1] for both families (DDIM/DDPM output is
 * doubled, as the lesson's `preds[-1]*2`), so image writers need not know the schedule.
 */
export async function sample(model: Denoiser, o: AnySamplerOptions): Promise<SampleResult> {
  if (o.sampler === "ddim" || o.sampler === "ddpm") {
    const r = await sampleDdim(model, { ...o, eta: o.sampler === "ddpm" ? 1 : (o.eta ?? 1) });
    const x0 = r.x0.map((v) => v * 2);
    return { ...r, x0 };
  }
  return sampleKarras(model, { ...o, sampler: o.sampler });
}

// A denoising trajectory: x_t of a few images at a few of the sampler's steps, then the result, as
// one strip per image (the lesson's look at sampling under way). It is recorded by wrapping the
// Denoiser: the first model call of each chosen step sees x_t itself (DDIM, in the data's
// [-0.5, 0.5] scale) or x_t * c_in(sigma) (Karras), so the samplers need no hook of their own.
import type { Denoiser, SamplerKind } from "../diffusion/samplers.js";
import { karrasScalings } from "../diffusion/schedules.js";

export interface TrajectoryRequest {
  /** Which images of the batch to follow, one strip each. */
  readonly images: readonly number[];
  /** Columns in all: x_t at columns - 1 steps spread evenly from the first to the last, then the result. Default 8. */
  readonly columns?: number;
}

export interface Trajectory {
  /** [rows * cols, ...image] in [-1, 1]: row r is images[r], column c is step steps[c] (the last column: the result). */
  readonly frames: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** The sampler step (1-based) each x_t column was taken at. */
  readonly steps: readonly number[];
  /** The noise level the model was given there: t for DDIM/DDPM, sigma for Karras samplers. */
  readonly levels: readonly number[];
  readonly totalSteps: number;
  readonly karras: boolean;
}

/** `count` step indices (0-based) spread evenly over `total` steps, first and last included. */
export function trajectorySteps(total: number, count: number): number[] {
  const k = Math.max(1, Math.min(count, total));
  if (k === 1) return [0];
  const out = Array.from({ length: k }, (_, j) => Math.round((j * (total - 1)) / (k - 1)));
  return [...new Set(out)];
}

export interface TrajectoryRecorder {
  /** The model to give the sampler. */
  readonly denoise: Denoiser;
  /** To call after each sampler step (with the sampler's own onStep). */
  readonly onStep: (i: number) => void;
  /** The strips, once sampling ended with `x0` ([-1, 1]). */
  finish(x0: Float32Array): Trajectory;
}

export function recordTrajectory(model: Denoiser, o: { sampler: SamplerKind; steps: number; perImage: number; request: TrajectoryRequest }): TrajectoryRecorder {
  const karras = o.sampler !== "ddim" && o.sampler !== "ddpm";
  const chosen = trajectorySteps(o.steps, (o.request.columns ?? 8) - 1);
  const per = o.perImage;
  const picks = o.request.images;
  const cols = chosen.length + 1;
  const frames = new Float32Array(picks.length * cols * per);
  const levels: number[] = [];
  let step = 0;
  let pending = true; // the next model call is the first of step `step`

  const denoise: Denoiser = (x, t, c) => {
    if (pending) {
      pending = false;
      const col = chosen.indexOf(step);
      if (col >= 0) {
        const level = t[0];
        levels[col] = level;
        // Back to x_t in the data's [-1, 1] scale: DDIM's data is [-0.5, 0.5]; Karras gives x_t * c_in.
        const k = karras ? 1 / karrasScalings(level).cIn : 2;
        picks.forEach((img, r) => {
          const at = (r * cols + col) * per;
          for (let i = 0; i < per; i++) frames[at + i] = x[img * per + i] * k;
        });
      }
    }
    return model(x, t, c);
  };
  return {
    denoise,
    onStep: (i) => {
      step = i + 1;
      pending = true;
    },
    finish: (x0) => {
      picks.forEach((img, r) => frames.set(x0.subarray(img * per, (img + 1) * per), (r * cols + cols - 1) * per));
      return { frames, rows: picks.length, cols, steps: chosen.map((s) => s + 1), levels, totalSteps: o.steps, karras };
    },
  };
}

// What an ablation is asked to do (`unetc ablate`'s options) and the files it writes.
import type { SamplerKind } from "../diffusion/samplers.js";
import { MIN_SAMPLES } from "../metrics/evaluate-run.js";
import type { DeviceKind } from "../session/runner.js";
import { RULES, type NumberRule } from "../train/number-rules.js";
import { PRESETS } from "../train/presets.js";
import { RECIPE_RULES, type RecipeOptions } from "../train/recipe.js";

export const REPORT_MD = "ablation.md";
export const REPORT_JSON = "ablation.json";
export const LOSS_CHART = "eval-loss.png";
export const SAMPLES_MONTAGE = "samples.png";
/** Each run's own small sample grid (the montage's panels). */
export const RUN_GRID = "grid.png";

export interface AblationOptions extends RecipeOptions {
  /** `key=v1,v2,...` texts, one per axis. */
  readonly grid: readonly string[];
  /** Seeds per variant, from `seed` on. */
  readonly seeds: number;
  readonly seed: number;
  /** `key=value` fixed for every variant. */
  readonly set: readonly string[];
  readonly model?: string;
  /** The ablation folder (default runs/ablate-<model>). */
  readonly out?: string;
  /** Stop before any training when a variant does not check. */
  readonly strict?: boolean;
  /** Images sampled per run for FID/KID; 0 for none. */
  readonly fidN: number;
  readonly sampler?: SamplerKind;
  readonly steps: number;
  readonly eta: number;
  /** Images per variant in the samples montage. */
  readonly gridN: number;
  readonly classifier?: string;
  readonly device: DeviceKind;
  readonly logEvery: number;
}

/** The ranges of an ablation's numeric options (the recipe's and its own), by name. */
export const ABLATE_RULES = {
  ...RECIPE_RULES,
  seeds: RULES.positiveInt,
  seed: RULES.seed,
  // KID splits the samples into 4 chunks of 2 or more.
  fidN: { ok: (v) => v === 0 || (Number.isInteger(v) && v >= MIN_SAMPLES), expected: `0 (no FID/KID) or an integer of at least ${MIN_SAMPLES}` },
  steps: RULES.positiveInt,
  eta: RULES.nonnegative,
  gridN: RULES.positiveInt,
  logEvery: RULES.positiveInt,
} as const satisfies { readonly [K in keyof AblationOptions]?: NumberRule };

/** `--preset cpu` for ablations: the train preset, and FID on fewer, shorter samples. */
export const ABLATE_PRESETS = {
  cpu: { ...PRESETS.cpu.flags, fidN: 256, steps: 25 },
} as const;

/** Where an ablation reports: progress lines (stdout) and problems of a variant or run (stderr). */
export interface AblationLog {
  info(line: string): void;
  problem(text: string): void;
}

/** Stopping on request (Ctrl-C): armed only while runs train, polled between their steps. */
export interface StopControl {
  arm(): void;
  disarm(): void;
  requested(): boolean;
}

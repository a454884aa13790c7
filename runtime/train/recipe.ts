// The lesson's training recipe as options: what `unetc train` and `unetc ablate` share, the
// config a fresh run stores from them, and the one-line description a run prints.
import type { ModelTask } from "../../compiler/check/model-graph.js";
import type { TrainConfig } from "./checkpoint.js";
import { checkNumbers, parseNumber, RULES, type NumberRule } from "./number-rules.js";

/** The recipe's options as given (the CLI's flags of the same names). */
export interface RecipeOptions {
  readonly data: string;
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly schedule: "cosine" | "karras";
  /** `--ema`: true for the default decay, a decay as text, or absent/false for none. */
  readonly ema?: boolean | string;
  readonly subset?: number;
  readonly evalSubset?: number;
  readonly optimizer: "adam" | "adamw";
  readonly eps: number;
  readonly beta2: number;
  readonly weightDecay: number;
}

export const DEFAULT_EMA_DECAY = 0.999;

/** The ranges of the recipe's numeric options, by name (`--ema` is text: see emaDecay). */
export const RECIPE_RULES = {
  epochs: RULES.positiveInt,
  batch: RULES.positiveInt,
  lr: RULES.positive,
  subset: RULES.positiveInt,
  evalSubset: RULES.positiveInt,
  eps: RULES.positive,
  beta2: RULES.decay,
  weightDecay: RULES.nonnegative,
} as const satisfies { readonly [K in keyof RecipeOptions]?: NumberRule };

/** The ranges of a run's numeric settings, by the option each comes from (a stored config's too). */
export const CONFIG_RULES = { ...RECIPE_RULES, ema: RULES.decay, seed: RULES.seed } as const satisfies { readonly [K in keyof TrainConfig]?: NumberRule };

/** The EMA decay `--ema [decay]` asks for; undefined for no EMA. */
export function emaDecay(v: boolean | string | undefined): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return DEFAULT_EMA_DECAY;
  return parseNumber("--ema", v, CONFIG_RULES.ema);
}

/** A fresh run's config from the recipe's options; throws an OptionValueError for a value out of range. */
export function recipeConfig(o: RecipeOptions, seed: number): TrainConfig {
  const ema = emaDecay(o.ema);
  const config: TrainConfig = {
    data: o.data,
    ...(o.subset !== undefined ? { subset: o.subset } : {}),
    ...(o.evalSubset !== undefined ? { evalSubset: o.evalSubset } : {}),
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    schedule: o.schedule,
    optimizer: o.optimizer,
    eps: o.eps,
    beta2: o.beta2,
    weightDecay: o.weightDecay,
    ...(ema !== undefined ? { ema } : {}),
    seed,
  };
  // Presets and callers other than the CLI's parsers arrive here unchecked.
  checkNumbers(config, CONFIG_RULES);
  return config;
}

const num = (x: number): string => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x));

/** `recipe: cosine noise, adam (eps 1e-5), OneCycle max lr 0.01, batch 512, seed 42, EMA 0.999`. */
export function describeRecipe(config: TrainConfig, task: ModelTask): string {
  const emaText = config.ema !== undefined ? `, EMA ${config.ema}` : "";
  const what = task === "classify" ? `cross-entropy on the class${config.augment ? ", flips and 1-pixel shifts" : ""}` : `${config.schedule} noise`;
  return `recipe: ${what}, ${config.optimizer} (eps ${num(config.eps)}), OneCycle max lr ${num(config.lr)}, batch ${config.batch}, seed ${config.seed}${emaText}`;
}

// The ranges numeric options must lie in (learning rate positive, betas in [0, 1), ...), named by
// the option they come from, so that a bad value is refused before it trains on NaN:
// `--beta2 must be in [0, 1), got 1`. The CLI's parsers use the same rules as the checks of
// presets, defaults and a run's stored config.
import { UsageError } from "../../compiler/diagnostics/user-error.js";

/** A range, and how a message says it: "--lr must be <expected>". */
export interface NumberRule {
  readonly ok: (v: number) => boolean;
  readonly expected: string;
}

/** Seeds are used modulo 2^32 (Rng, mixSeed): a larger one would silently alias a smaller. */
export const SEED_LIMIT = 2 ** 32;

export const RULES = {
  positive: { ok: (v) => v > 0, expected: "positive" },
  nonnegative: { ok: (v) => v >= 0, expected: "non-negative" },
  positiveInt: { ok: (v) => Number.isInteger(v) && v > 0, expected: "a positive integer" },
  nonnegativeInt: { ok: (v) => Number.isInteger(v) && v >= 0, expected: "a non-negative integer" },
  seed: { ok: (v) => Number.isInteger(v) && v >= 0 && v < SEED_LIMIT, expected: "an integer in [0, 2^32)" },
  /** Adam's betas and an EMA decay: 1 or more never forgets (or diverges), and trains on NaN. */
  decay: { ok: (v) => v >= 0 && v < 1, expected: "in [0, 1)" },
} as const satisfies Record<string, NumberRule>;

/** A bad option value: a usage error (exit 2), as commander's own. */
export class OptionValueError extends UsageError {}

/** `weightDecay` -> `--weight-decay`: the flag an option key comes from. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const shown = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

/** What is wrong with `value` for `flag` under `rule`, or undefined when nothing is. */
export function numberProblem(flag: string, value: unknown, rule: NumberRule): string | undefined {
  if (typeof value !== "number" || Number.isNaN(value)) return `${flag} must be a number, got ${shown(value)}`;
  if (!Number.isFinite(value)) return `${flag} must be a finite number, got ${value}`;
  return rule.ok(value) ? undefined : `${flag} must be ${rule.expected}, got ${value}`;
}

/** A flag's text as a number under `rule`; throws an OptionValueError naming the flag. */
export function parseNumber(flag: string, text: string, rule: NumberRule): number {
  const v = text.trim() === "" ? Number.NaN : Number(text);
  const problem = numberProblem(flag, Number.isNaN(v) ? text : v, rule);
  if (problem) throw new OptionValueError(problem);
  return v;
}

/** The first problem among the present (defined) values of `rules`' keys in `values`. */
export function firstNumberProblem(values: object, rules: Readonly<Record<string, NumberRule>>): string | undefined {
  const record = values as Readonly<Record<string, unknown>>;
  for (const [key, rule] of Object.entries(rules)) {
    const v = record[key];
    const problem = v === undefined ? undefined : numberProblem(flagOf(key), v, rule);
    if (problem) return problem;
  }
  return undefined;
}

/** Throws an OptionValueError for the first value out of its range (options after presets and defaults). */
export function checkNumbers(values: object, rules: Readonly<Record<string, NumberRule>>): void {
  const problem = firstNumberProblem(values, rules);
  if (problem) throw new OptionValueError(problem);
}

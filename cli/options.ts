// The flags and value parsers every command shares, defined once: numbers, repeatable flags,
// colour, the spec options (--set/--model/--color), device and optimizer choices, the recipe.
import { type Command, InvalidArgumentError, Option } from "commander";
import { OPT_LEVELS, type OptLevel } from "../compiler/compile.js";
import { parseNumber, type NumberRule } from "../runtime/train/number-rules.js";

/** Sets the process's exit code from a command's action. */
export type SetExit = (code: number) => void;

export type NumberKind = "positive" | "nonnegative" | "positive-int" | "nonnegative-int";

/** A number flag: finite, and positive / non-negative / an integer where asked. */
export function numberArg(kind: NumberKind) {
  return (text: string): number => {
    const v = Number(text);
    const ok = text.trim() !== "" && Number.isFinite(v) && (kind.startsWith("nonnegative") ? v >= 0 : v > 0) && (!kind.endsWith("-int") || Number.isInteger(v));
    if (!ok) throw new InvalidArgumentError(`expected a ${kind.replace("-int", " integer")} number, found "${text}"`);
    return v;
  };
}

/**
 * A number option under a range rule (runtime/train/number-rules.ts): a bad value ends the
 * command with the flag named, `error: --beta2 must be in [0, 1), got 1` (exit 2), not commander's
 * longer "option '--beta2 <x>' argument '1' is invalid" (the error passes through commander).
 */
export function numberOption(flags: string, description: string, rule: NumberRule, fallback?: number): Option {
  const o = new Option(flags, description);
  const flag = o.long ?? flags;
  o.argParser((text: string): number => parseNumber(flag, text, rule));
  return fallback === undefined ? o : o.default(fallback);
}

/** For repeatable flags: each value appended to the list. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** --color / --no-color, else colour on a terminal unless NO_COLOR is set. */
export function useColor(opts: { color?: boolean }): boolean {
  return opts.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
}

export const DEVICES = ["webgpu", "reference"] as const;
export const OPTIMIZERS = ["adam", "adamw"] as const;

/** --color and --no-color (undefined when neither: see useColor). */
export function addColorOptions(c: Command): Command {
  return c.addOption(new Option("--color", "colour diagnostics").default(undefined)).option("--no-color", "plain diagnostics");
}

/** `--device`, with a default unless the command picks one later (e.g. where the run was trained). */
export function deviceOption(description: string, fallback?: (typeof DEVICES)[number]): Option {
  const o = new Option("--device <device>", description).choices([...DEVICES]);
  return fallback ? o.default(fallback) : o;
}

/** `--opt 0|1`: the compiler's optimization level (0 turns every optimization off, to compare against). */
export function optOption(): Option {
  return new Option("--opt <level>", "optimization level: 1 all optimizations (default), 0 none (to compare against)").default(1).argParser((text: string): OptLevel => {
    const level = OPT_LEVELS.find((l) => String(l) === text);
    if (level === undefined) throw new InvalidArgumentError(`expected ${OPT_LEVELS.join(" or ")}, found "${text}"`);
    return level;
  });
}

export function optimizerOption(description: string): Option {
  return new Option("--optimizer <name>", description).choices([...OPTIMIZERS]).default("adam");
}

/** The options of a command over a spec file. */
export interface SpecOptions {
  set: string[];
  model?: string;
  json?: boolean;
  color?: boolean;
}

/** --set (repeatable) and --model. */
export function addModelOptions(c: Command, setHelp: string): Command {
  return c.option("--set <key=value>", setHelp, collect, []).option("--model <name>", "the model to use when the file defines several");
}

/** --set, --model, --color and --no-color: what every command over a spec file takes. */
export function addSpecOptions(c: Command): Command {
  return addColorOptions(addModelOptions(c, "override a model parameter (repeatable), e.g. --set attn_start=2 --set nfs=[16,32,64]"));
}

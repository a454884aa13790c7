// The ranges of numeric options, in process: each rule, the message that names the flag, the
// recipe's config (where presets and callers other than the CLI arrive), a stored config, the
// ablation's rules, the presets themselves, and the CLI's parsers (train, ablate, eval, run).
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addAblateCommand } from "../../cli/commands/ablate.js";
import { addEvalCommand } from "../../cli/commands/eval.js";
import { addSpecCommands } from "../../cli/commands/spec.js";
import { addTrainCommand } from "../../cli/commands/train.js";
import { RECIPE_FLAG_RULES } from "../../cli/recipe-options.js";
import { failureOf } from "../../cli/report.js";
import { ABLATE_PRESETS, ABLATE_RULES } from "../../runtime/ablate/options.js";
import { checkNumbers, firstNumberProblem, flagOf, numberProblem, OptionValueError, parseNumber, RULES } from "../../runtime/train/number-rules.js";
import { applyPreset, PRESETS } from "../../runtime/train/presets.js";
import { CONFIG_RULES, emaDecay, recipeConfig, type RecipeOptions } from "../../runtime/train/recipe.js";

const RECIPE: RecipeOptions = { data: "fashion-mnist", epochs: 2, batch: 8, lr: 1e-2, schedule: "cosine", optimizer: "adam", eps: 1e-5, beta2: 0.999, weightDecay: 0 };

describe("number rules", () => {
  it("each rule accepts its range and names the flag when a value is outside it", () => {
    const cases: [keyof typeof RULES, number[], number[], string][] = [
      ["positive", [1e-9, 3], [0, -1], "must be positive"],
      ["nonnegative", [0, 2], [-1e-9], "must be non-negative"],
      ["positiveInt", [1, 512], [0, 2.5, -3], "must be a positive integer"],
      ["nonnegativeInt", [0, 7], [-1, 0.5], "must be a non-negative integer"],
      ["seed", [0, 2 ** 32 - 1], [-1, 2 ** 32, 1.5], "must be an integer in [0, 2^32)"],
      ["decay", [0, 0.9, 0.999999], [1, 1.5, -0.1], "must be in [0, 1)"],
    ];
    for (const [name, good, bad, expected] of cases) {
      for (const v of good) expect(numberProblem("--x", v, RULES[name]), `${name} ${v}`).toBeUndefined();
      for (const v of bad) expect(numberProblem("--x", v, RULES[name]), `${name} ${v}`).toBe(`--x ${expected}, got ${v}`);
    }
  });

  it("refuses text that is no number, and infinities, for every rule", () => {
    expect(() => parseNumber("--lr", "abc", RULES.positive)).toThrow('--lr must be a number, got "abc"');
    expect(() => parseNumber("--lr", " ", RULES.positive)).toThrow('--lr must be a number, got " "');
    expect(() => parseNumber("--lr", "Infinity", RULES.positive)).toThrow("--lr must be a finite number, got Infinity");
    expect(parseNumber("--lr", "3e-4", RULES.positive)).toBe(3e-4);
    expect(flagOf("weightDecay")).toBe("--weight-decay");
    expect(flagOf("fidN")).toBe("--fid-n");
  });

  it("a bad value is a usage error: `error: ...` and exit 2, no stack trace", () => {
    const f = failureOf(new OptionValueError("--beta2 must be in [0, 1), got 1"));
    expect(f).toEqual({ code: 2, message: "error: --beta2 must be in [0, 1), got 1", printed: false });
  });
});

describe("the recipe's config", () => {
  it("accepts the defaults and the edges of each range", () => {
    expect(recipeConfig(RECIPE, 0).beta2).toBe(0.999);
    expect(recipeConfig({ ...RECIPE, beta2: 0, weightDecay: 0, ema: "0" }, 2 ** 32 - 1).ema).toBe(0);
    expect(recipeConfig({ ...RECIPE, ema: true }, 1).ema).toBe(0.999);
  });

  it("refuses each value out of range, naming its flag", () => {
    const bad: [Partial<RecipeOptions>, string][] = [
      [{ beta2: 1 }, "--beta2 must be in [0, 1), got 1"],
      [{ beta2: -0.5 }, "--beta2 must be in [0, 1), got -0.5"],
      [{ lr: 0 }, "--lr must be positive, got 0"],
      [{ lr: Number.NaN }, "--lr must be a number, got NaN"],
      [{ eps: -1e-8 }, "--eps must be positive, got -1e-8"],
      [{ weightDecay: -0.1 }, "--weight-decay must be non-negative, got -0.1"],
      [{ epochs: 0 }, "--epochs must be a positive integer, got 0"],
      [{ epochs: 2.5 }, "--epochs must be a positive integer, got 2.5"],
      [{ batch: 0 }, "--batch must be a positive integer, got 0"],
      [{ subset: 0 }, "--subset must be a positive integer, got 0"],
      [{ evalSubset: 1.5 }, "--eval-subset must be a positive integer, got 1.5"],
      [{ ema: "1" }, "--ema must be in [0, 1), got 1"],
      [{ ema: "fast" }, '--ema must be a number, got "fast"'],
    ];
    for (const [over, message] of bad) expect(() => recipeConfig({ ...RECIPE, ...over }, 0), message).toThrow(message);
    expect(() => recipeConfig(RECIPE, -1)).toThrow("--seed must be an integer in [0, 2^32), got -1");
    expect(() => recipeConfig(RECIPE, 2 ** 32)).toThrow(OptionValueError);
  });

  it("finds a stored config's value out of range (a hand-edited checkpoint)", () => {
    const stored = { ...recipeConfig(RECIPE, 3), ema: 1.2 };
    expect(firstNumberProblem(stored, CONFIG_RULES)).toBe("--ema must be in [0, 1), got 1.2");
    expect(firstNumberProblem(recipeConfig(RECIPE, 3), CONFIG_RULES)).toBeUndefined();
    expect(emaDecay(undefined)).toBeUndefined();
  });

  it("the presets hold, and a preset's bad value would be refused after it is applied", () => {
    expect(firstNumberProblem(PRESETS.cpu.flags, RECIPE_FLAG_RULES)).toBeUndefined();
    expect(firstNumberProblem(ABLATE_PRESETS.cpu, ABLATE_RULES)).toBeUndefined();
    const flags = { ...RECIPE, logEvery: 10 };
    applyPreset(flags, { batch: 0, logEvery: 5 }, () => false);
    expect(() => checkNumbers(flags, RECIPE_FLAG_RULES)).toThrow("--batch must be a positive integer, got 0");
  });

  it("an ablation's own options", () => {
    const ok = { ...RECIPE, seeds: 2, seed: 0, fidN: 0, steps: 5, eta: 0, gridN: 4, logEvery: 1 };
    expect(firstNumberProblem(ok, ABLATE_RULES)).toBeUndefined();
    expect(firstNumberProblem({ ...ok, fidN: 8 }, ABLATE_RULES)).toBeUndefined();
    expect(firstNumberProblem({ ...ok, fidN: 4 }, ABLATE_RULES)).toBe("--fid-n must be 0 (no FID/KID) or an integer of at least 8, got 4");
    expect(firstNumberProblem({ ...ok, seeds: 0 }, ABLATE_RULES)).toBe("--seeds must be a positive integer, got 0");
    expect(firstNumberProblem({ ...ok, eta: -1 }, ABLATE_RULES)).toBe("--eta must be non-negative, got -1");
    expect(firstNumberProblem({ ...ok, gridN: 0 }, ABLATE_RULES)).toBe("--grid-n must be a positive integer, got 0");
    expect(firstNumberProblem({ ...ok, logEvery: 0 }, ABLATE_RULES)).toBe("--log-every must be a positive integer, got 0");
  });
});

/** Parses a command line against the real commands; the action is never reached for a bad value. */
async function parseError(...argv: string[]): Promise<unknown> {
  const program = new Command("unetc").exitOverride();
  const never = () => {
    throw new Error("the action ran");
  };
  addSpecCommands(program, never);
  addTrainCommand(program, never);
  addEvalCommand(program, never);
  addAblateCommand(program, never);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("the CLI's parsers", () => {
  const cases: [string[], string][] = [
    [["train", "x.unet", "--beta2", "1"], "--beta2 must be in [0, 1), got 1"],
    [["train", "x.unet", "--lr", "-0.1"], "--lr must be positive, got -0.1"],
    [["train", "x.unet", "--eps", "0"], "--eps must be positive, got 0"],
    [["train", "x.unet", "--weight-decay", "-1"], "--weight-decay must be non-negative, got -1"],
    [["train", "x.unet", "--epochs", "1.5"], "--epochs must be a positive integer, got 1.5"],
    [["train", "x.unet", "--batch", "0"], "--batch must be a positive integer, got 0"],
    [["train", "x.unet", "--log-every", "0"], "--log-every must be a positive integer, got 0"],
    [["train", "x.unet", "--seed", "-1"], "--seed must be an integer in [0, 2^32), got -1"],
    [["ablate", "x.unet", "--fid-n", "3"], "--fid-n must be 0 (no FID/KID) or an integer of at least 8, got 3"],
    [["ablate", "x.unet", "--beta2", "2"], "--beta2 must be in [0, 1), got 2"],
    [["ablate", "x.unet", "--seeds", "0"], "--seeds must be a positive integer, got 0"],
    [["eval", "run", "--eta", "-1"], "--eta must be non-negative, got -1"],
    [["eval", "run", "--steps", "0"], "--steps must be a positive integer, got 0"],
    [["run", "x.unet", "--weights", "w", "--inputs", "i", "--out", "o", "--beta1", "1"], "--beta1 must be in [0, 1), got 1"],
    [["run", "x.unet", "--weights", "w", "--inputs", "i", "--out", "o", "--beta2", "1.01"], "--beta2 must be in [0, 1), got 1.01"],
    [["run-step", "x.unet", "--seed", "0.5"], "--seed must be an integer in [0, 2^32), got 0.5"],
  ];
  it.each(cases)("%j: %s", async (argv, message) => {
    const err = await parseError(...argv);
    expect(err).toBeInstanceOf(OptionValueError);
    expect((err as Error).message).toBe(message);
  });
});

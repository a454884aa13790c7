// The recipe's flags, shared by `unetc train` and `unetc ablate` (runtime/train/recipe.ts).
import { type Command, Option } from "commander";
import type { DeviceKind } from "../runtime/session/runner.js";
import type { PresetName } from "../runtime/train/presets.js";
import { RULES } from "../runtime/train/number-rules.js";
import { RECIPE_RULES, type RecipeOptions } from "../runtime/train/recipe.js";
import { addColorOptions, deviceOption, numberOption, optimizerOption } from "./options.js";

/** The recipe's options as commander parses them. */
export interface RecipeFlags extends RecipeOptions {
  device: DeviceKind;
  preset?: PresetName;
  logEvery: number;
  color?: boolean;
}

/** The ranges of the recipe's numeric flags: the recipe's own and --log-every. */
export const RECIPE_FLAG_RULES = { ...RECIPE_RULES, logEvery: RULES.positiveInt } as const;

/** Adds the recipe's options (data, schedule, optimizer, batch, epochs, device, ...). */
export function addRecipeOptions(c: Command): Command {
  return addColorOptions(
    c
      .option("--data <source>", "fashion-mnist, or a folder with one subfolder of PNGs per class", "fashion-mnist")
      .addOption(numberOption("--epochs <n>", "epochs", RECIPE_RULES.epochs, 25))
      .addOption(numberOption("--batch <n>", "batch size (the compiled step's; the last partial batch of an epoch is dropped)", RECIPE_RULES.batch, 512))
      .addOption(numberOption("--lr <x>", "OneCycle's maximum learning rate", RECIPE_RULES.lr, 1e-2))
      .addOption(new Option("--schedule <kind>", "noise schedule: cosine (predict the noise) or karras (preconditioned)").choices(["cosine", "karras"]).default("cosine"))
      .option("--ema [decay]", "keep an exponential moving average of the weights (decay in [0, 1), default 0.999); sampling uses it")
      .addOption(deviceOption("where to run", "webgpu"))
      .addOption(numberOption("--subset <k>", "train on the first K images of each class", RECIPE_RULES.subset))
      .addOption(numberOption("--eval-subset <k>", "evaluate on the first K held-out images of each class (default: all)", RECIPE_RULES.evalSubset))
      .addOption(numberOption("--log-every <n>", "read the loss back every N steps (progress and metrics)", RECIPE_FLAG_RULES.logEvery, 10))
      .addOption(optimizerOption("optimizer"))
      .addOption(numberOption("--eps <x>", "Adam epsilon (positive)", RECIPE_RULES.eps, 1e-5))
      .addOption(numberOption("--beta2 <x>", "Adam beta2, in [0, 1) (beta1 follows OneCycle, 0.95 -> 0.85 -> 0.95)", RECIPE_RULES.beta2, 0.999))
      .addOption(numberOption("--weight-decay <x>", "weight decay (0 or more)", RECIPE_RULES.weightDecay, 0)),
  );
}

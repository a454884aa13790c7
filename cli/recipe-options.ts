// The recipe's flags, shared by `unetc train` and `unetc ablate` (runtime/train/recipe.ts).
import { type Command, Option } from "commander";
import type { DeviceKind } from "../runtime/session/runner.js";
import type { PresetName } from "../runtime/train/presets.js";
import type { RecipeOptions } from "../runtime/train/recipe.js";
import { addColorOptions, deviceOption, numberArg, optimizerOption } from "./options.js";

/** The recipe's options as commander parses them. */
export interface RecipeFlags extends RecipeOptions {
  device: DeviceKind;
  preset?: PresetName;
  logEvery: number;
  color?: boolean;
}

/** Adds the recipe's options (data, schedule, optimizer, batch, epochs, device, ...). */
export function addRecipeOptions(c: Command): Command {
  return addColorOptions(
    c
      .option("--data <source>", "fashion-mnist, or a folder with one subfolder of PNGs per class", "fashion-mnist")
      .option("--epochs <n>", "epochs", numberArg("positive-int"), 25)
      .option("--batch <n>", "batch size (the compiled step's; the last partial batch of an epoch is dropped)", numberArg("positive-int"), 512)
      .option("--lr <x>", "OneCycle's maximum learning rate", numberArg("positive"), 1e-2)
      .addOption(new Option("--schedule <kind>", "noise schedule: cosine (predict the noise) or karras (preconditioned)").choices(["cosine", "karras"]).default("cosine"))
      .option("--ema [decay]", "keep an exponential moving average of the weights (default decay 0.999); sampling uses it")
      .addOption(deviceOption("where to run", "webgpu"))
      .option("--subset <k>", "train on the first K images of each class", numberArg("positive-int"))
      .option("--eval-subset <k>", "evaluate on the first K held-out images of each class (default: all)", numberArg("positive-int"))
      .option("--log-every <n>", "read the loss back every N steps (progress and metrics)", numberArg("positive-int"), 10)
      .addOption(optimizerOption("optimizer"))
      .option("--eps <x>", "Adam epsilon", numberArg("positive"), 1e-5)
      .option("--beta2 <x>", "Adam beta2 (beta1 follows OneCycle, 0.95 -> 0.85 -> 0.95)", numberArg("positive"), 0.999)
      .option("--weight-decay <x>", "weight decay", numberArg("nonnegative"), 0),
  );
}

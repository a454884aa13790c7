// Named bundles of training options (`--preset cpu`); options given explicitly win over them.
import { join } from "node:path";
import { MODELS_DIR } from "../../compiler/front/package-root.js";
import type { DeviceKind } from "../session/runner.js";
import type { RecipeOptions } from "./recipe.js";

/** The options a preset may set: the recipe's, and where and how it reports. */
export type PresetValues = Partial<RecipeOptions & { readonly device: DeviceKind; readonly logEvery: number }>;

/**
 * `--preset cpu`: a run for a machine without a GPU (two cores, lavapipe or none) that finishes
 * in about ten minutes and still draws recognisable garments: the small class-conditional
 * models/lesson/cpu_unet.unet on 16x16 images, a subset of Fashion-MNIST, the reference
 * interpreter (faster than lavapipe for a model this small, and no shader compilation):
 * 4,000 training images (400 per class), 3 epochs of batch 32, 200 held-out images.
 * Flags given on the command line win over the preset's values.
 */
export const PRESETS = {
  cpu: {
    spec: join(MODELS_DIR, "lesson", "cpu_unet.unet"),
    // Measured on the 2-core development VM: 375 steps of 32 at 1.8 steps/s, 3.6 minutes; final
    // train/eval loss 0.077/0.069; `unetc sample RUN --steps 25` then takes about 12 s.
    // (WebGPU on lavapipe ran this model at 0.23-0.3 steps/s after ~45 s of shader compilation.)
    flags: { device: "reference", batch: 32, epochs: 3, subset: 400, evalSubset: 20, logEvery: 5 } satisfies PresetValues,
  },
} as const;

export type PresetName = keyof typeof PRESETS;

/** Sets each of the preset's values on `options` unless `given(key)` says the user chose it. */
export function applyPreset<T extends object>(options: T, values: object, given: (key: string) => boolean): void {
  const target = options as Record<string, unknown>;
  for (const [k, v] of Object.entries(values)) if (!given(k)) target[k] = v;
}

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
 * interpreter (it runs where there is no Vulkan driver at all; the main job passes
 * `--device webgpu` where lavapipe is there, ~7x faster on two cores, bench/RESULTS.md):
 * 4,000 training images (400 per class), 3 epochs of batch 32, 200 held-out images.
 * Flags given on the command line win over the preset's values.
 */
export const PRESETS = {
  cpu: {
    spec: join(MODELS_DIR, "lesson", "cpu_unet.unet"),
    // Measured on the 2-core development VM: 375 steps of 32 in 5m48s on the reference
    // interpreter (1.10 steps/s, 2026-12-02), ~50 s on WebGPU/lavapipe (7-9 steps/s, the main
    // job on an empty shader cache, 2026-12-07); final eval loss ~0.07 on both; `unetc sample
    // RUN --steps 25` 18-26 s on the reference, ~3 s on lavapipe.
    flags: { device: "reference", batch: 32, epochs: 3, subset: 400, evalSubset: 20, logEvery: 5 } satisfies PresetValues,
  },
} as const;

export type PresetName = keyof typeof PRESETS;

/** Sets each of the preset's values on `options` unless `given(key)` says the user chose it. */
export function applyPreset<T extends object>(options: T, values: object, given: (key: string) => boolean): void {
  const target = options as Record<string, unknown>;
  for (const [k, v] of Object.entries(values)) if (!given(k)) target[k] = v;
}

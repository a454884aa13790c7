// Before any training: the grid parsed and expanded, every variant checked, the FID classifier
// found and the sampler matched to the schedule, so that no mistake surfaces hours into a run.
import { join } from "node:path";
import { checkSpec } from "../../compiler/check/check.js";
import { modelTask, type ModelGraph } from "../../compiler/check/model-graph.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { defaultSampler } from "../diffusion/default-sampler.js";
import { samplerSchedule, type SamplerKind } from "../diffusion/samplers.js";
import { classifierId } from "../metrics/classifier.js";
import { MIN_SAMPLES } from "../metrics/evaluate-run.js";
import type { SpecInfo } from "../train/checkpoint.js";
import { specInfo } from "../train/from-checkpoint.js";
import { checkAxes, expandGrid, parseGridArg, planRuns, seedList, type GridAxis, type PlannedRun, type Variant } from "./grid.js";
import type { AblationLog, AblationOptions } from "./options.js";

/** A variant after its check: a model, or why it has none. */
export type CheckedVariant =
  | { readonly variant: Variant; readonly model: ModelGraph; readonly specInfo: SpecInfo; readonly error?: undefined }
  | { readonly variant: Variant; readonly model?: undefined; readonly error: string };

export interface AblationPlan {
  /** The spec file, as given. */
  readonly spec: string;
  readonly axes: readonly GridAxis[];
  readonly variants: readonly Variant[];
  readonly seeds: readonly number[];
  readonly checked: ReadonlyMap<string, CheckedVariant>;
  readonly valid: ReadonlyArray<Extract<CheckedVariant, { model: ModelGraph }>>;
  readonly invalidCount: number;
  readonly modelName: string;
  readonly root: string;
  readonly runs: readonly PlannedRun[];
  readonly sampler: SamplerKind;
  /** The FID classifier's id (undefined without FID). */
  readonly classifier: string | undefined;
}

function checkVariant(specPath: string, o: AblationOptions, v: Variant, color: boolean, log: AblationLog): CheckedVariant {
  const sets = [...o.set, ...v.sets];
  const r = checkSpec(specPath, { set: sets, model: o.model });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.graph || errors.length) {
    log.problem(`variant ${v.label} does not check:\n${renderDiagnostics(r.diagnostics, { color })}`);
    return { variant: v, error: errors.length ? `${errors[0].code}: ${errors[0].message}` : "does not check" };
  }
  if (modelTask(r.graph) !== "denoise") throw new UserError(`${r.graph.name} is a classifier; ablate compares denoisers`);
  return { variant: v, model: r.graph, specInfo: specInfo(specPath, r, r.graph, sets) };
}

/** Plans an ablation of `specPath`; throws a UsageError or UserError for what cannot run. */
export async function planAblation(specPath: string, o: AblationOptions, color: boolean, log: AblationLog): Promise<AblationPlan> {
  if (o.grid.length === 0) throw new UsageError("give at least one --grid key=v1,v2,... (for example --grid attn_chans=0,8)");
  const axes = o.grid.map(parseGridArg);
  checkAxes(axes);
  const fixed = o.set.map((s) => s.slice(0, s.indexOf("=")).trim());
  const clash = axes.find((a) => fixed.includes(a.key));
  if (clash) throw new UsageError(`${clash.key} is both fixed (--set) and varied (--grid); keep one`);
  if (o.fidN > 0 && o.fidN < MIN_SAMPLES) throw new UsageError(`--fid-n must be 0 (no FID/KID) or at least ${MIN_SAMPLES}`);
  const variants = expandGrid(axes);
  const seeds = seedList(o.seed, o.seeds);

  const checked = new Map<string, CheckedVariant>();
  for (const v of variants) checked.set(v.id, checkVariant(specPath, o, v, color, log));
  const all = [...checked.values()];
  const invalidCount = all.filter((c) => c.error).length;
  if (invalidCount && o.strict) throw new UserError(`${invalidCount} of ${variants.length} variants do not check (--strict); nothing was trained`);
  const valid = all.flatMap((c) => (c.model ? [c] : []));
  if (valid.length === 0) throw new UserError("no variant checks; nothing to train");

  // Without the classifier no run could be rated: say so before hours of training.
  const classifier = o.fidN > 0 ? await classifierId(o.classifier) : undefined;
  const modelName = valid[0].model.name;
  const root = o.out ?? join("runs", `ablate-${modelName}`);
  const runs = planRuns(variants, seeds, root);
  const sampler: SamplerKind = o.sampler ?? defaultSampler(o.schedule);
  if (samplerSchedule(sampler) !== o.schedule) throw new UsageError(`the ${sampler} sampler needs the ${samplerSchedule(sampler)} schedule; the runs use ${o.schedule}`);
  return { spec: specPath, axes, variants, seeds, checked, valid, invalidCount, modelName, root, runs, sampler, classifier };
}

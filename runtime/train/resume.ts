// Resuming a run continues it exactly, so it keeps the options that shape its trajectory: this
// checks that no option given for the resume contradicts the ones stored in the checkpoint.
import { resolve } from "node:path";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { TrainConfig } from "./checkpoint.js";

/** The options that shape a run's trajectory; on a resume they come from the checkpoint. */
export const TRAJECTORY = ["data", "subset", "evalSubset", "epochs", "batch", "lr", "schedule", "optimizer", "eps", "beta2", "weightDecay", "seed", "augment"] as const satisfies ReadonlyArray<keyof TrainConfig>;

type TrajectoryKey = (typeof TRAJECTORY)[number];

/** What the user asked of a resume: only the options given explicitly (absent: not given). */
export interface ResumeRequest {
  /** The run folder (or checkpoint) resumed. */
  readonly run: string;
  readonly given: Partial<Record<TrajectoryKey, unknown>>;
  /** The EMA decay asked for (undefined: none), when --ema was given. */
  readonly ema?: { readonly decay: number | undefined };
  readonly out?: string;
}

/** `evalSubset` -> `--eval-subset`. */
export const flagName = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Each option of the request that differs from the run's, as a line for people. */
export function resumeConflicts(stored: TrainConfig, req: ResumeRequest): string[] {
  const conflicts: string[] = [];
  for (const k of TRAJECTORY) {
    if (k in req.given && req.given[k] !== stored[k]) conflicts.push(`${flagName(k)} ${String(req.given[k])} (the run has ${String(stored[k])})`);
  }
  if (req.ema && req.ema.decay !== stored.ema) conflicts.push(`--ema (the run has ${stored.ema ?? "no EMA"})`);
  if (req.out && resolve(req.out) !== resolve(req.run)) conflicts.push(`--out ${req.out} (a resumed run writes to its own folder, ${req.run})`);
  return conflicts;
}

/** Throws a UserError listing every conflict of the request with the stored config. */
export function checkResume(stored: TrainConfig, req: ResumeRequest): void {
  const conflicts = resumeConflicts(stored, req);
  if (conflicts.length) {
    throw new UserError(`a resumed run keeps the options it started with, so that it continues exactly; these differ:\n${conflicts.map((c) => `  - ${c}`).join("\n")}`);
  }
}

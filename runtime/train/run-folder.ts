// Where a fresh run writes: runs/<model> by default, never over another run.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { CHECKPOINT_FILE } from "./checkpoint.js";

/** runs/<model>, or runs/<model>-2, -3, ... when taken. */
export function freshRunDir(model: string): string {
  const base = join("runs", model);
  if (!existsSync(base)) return base;
  for (let i = 2; ; i++) if (!existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

/** Throws when `out` already holds a run: a fresh run never overwrites one. */
export function checkFreshRunFolder(out: string): void {
  if (existsSync(join(out, CHECKPOINT_FILE))) {
    throw new UserError(`${out} already holds a run (${CHECKPOINT_FILE}); continue it with --resume ${out}, or choose another --out`);
  }
}

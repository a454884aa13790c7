// What the CLI prints besides a command's own output: diagnostics, and the one place a command's
// error becomes an exit code (usage errors 2, user errors 1, anything else an internal error, 3).
import { CommanderError, InvalidArgumentError } from "commander";
import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import { renderDiagnostics, renderUserError } from "../compiler/diagnostics/render.js";
import { UserError } from "../compiler/diagnostics/user-error.js";
import { checkModel, type CheckedModel } from "../runtime/train/from-checkpoint.js";
import { useColor } from "./options.js";

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export const printError = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

/** Diagnostics (warnings too) to stderr, rustc-style. */
export function printDiagnostics(ds: readonly Diagnostic[], opts: { color?: boolean }): void {
  if (ds.length) printError(renderDiagnostics(ds, { color: useColor(opts) }));
}

/** Prints a check's diagnostics (and its note); the model when it has no errors. */
export function reportCheck(checked: CheckedModel, opts: { color?: boolean }): CheckedModel {
  printDiagnostics(checked.result.diagnostics, opts);
  if (checked.note) printError(checked.note);
  return checked;
}

/** Checks a spec for a command that goes on to compile or run it; diagnostics go to stderr. */
export function checkOrReport(path: string, o: { set?: readonly string[]; model?: string; text?: string; color?: boolean }): CheckedModel {
  return reportCheck(checkModel(path, o), o);
}

/** How an error ended a command: its exit code and the message the user sees (already shown when `printed`). */
export interface Failure {
  readonly code: number;
  readonly message: string;
  readonly printed: boolean;
}

export function failureOf(err: unknown): Failure {
  if (err instanceof UserError) return { code: err.exitCode, message: renderUserError(err), printed: false };
  // commander turns its own parse errors into a CommanderError it has printed; this one came from an action.
  if (err instanceof InvalidArgumentError) return { code: 2, message: `error: ${err.message}`, printed: false };
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other commander error (already printed) is a usage error.
    const ok = err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version";
    return { code: ok ? 0 : 2, message: err.message, printed: true };
  }
  return { code: 3, message: `internal error: ${(err as Error).message}\nThis is a bug in unetc; please report it with the command that caused it.`, printed: false };
}

/** Prints what the user should see of an error that ended a command; returns the failure. */
export function reportFailure(err: unknown): Failure {
  const f = failureOf(err);
  if (!f.printed) printError(f.message);
  if (f.code === 3 && process.env.UNETC_DEBUG) printError(`${(err as Error).stack}`);
  return f;
}

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

/** Prints a check's diagnostics; the model when it has no errors. */
export function reportCheck(checked: CheckedModel, opts: { color?: boolean }): CheckedModel {
  printDiagnostics(checked.result.diagnostics, opts);
  return checked;
}

/** Checks a spec for a command that goes on to compile or run it; diagnostics go to stderr. */
export function checkOrReport(path: string, o: { set?: readonly string[]; model?: string; text?: string; color?: boolean }): CheckedModel {
  return reportCheck(checkModel(path, o), o);
}

/** The exit code for an error that ended a command, after printing what the user should see. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UserError) {
    printError(renderUserError(err));
    return err.exitCode;
  }
  // commander turns its own parse errors into a CommanderError it has printed; this one came from an action.
  if (err instanceof InvalidArgumentError) {
    printError(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other commander error (already printed) is a usage error.
    return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
  }
  printError(`internal error: ${(err as Error).message}\nThis is a bug in unetc; please report it with the command that caused it.`);
  if (process.env.UNETC_DEBUG) printError(`${(err as Error).stack}`);
  return 3;
}

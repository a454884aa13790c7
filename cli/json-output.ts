// --json: a command prints one JSON object on stdout and nothing else there; its prose lines and
// progress go to stderr so a script can parse stdout whole (`unetc train ... --json | jq .`).
// Success: `{ "command": ..., "ok": true, ... }` with every file written as an absolute path.
// Failure (as `check --json`'s `ok: false`): the message on stderr as always, a non-zero exit, and
// `{ "command": ..., "ok": false, "exitCode": n, "error": "..." }` on stdout (cli/main.ts).
import { resolve } from "node:path";
import { print, printError } from "./report.js";

let printed = false;

/** The object, pretty-printed, as the command's whole stdout. */
export function printJson(value: unknown): void {
  printed = true;
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Whether this process has printed its JSON object (a command that failed after it needs no error object). */
export const jsonPrinted = (): boolean => printed;

/** Where a command's prose lines go: stdout normally, stderr under --json. */
export function proseFor(json: boolean | undefined): (line: string) => void {
  return json ? printError : print;
}

/** A file's path as --json reports it: absolute, so it holds wherever the script runs. */
export const jsonPath = (path: string): string => resolve(path);

/** The same, for a file that may not have been written. */
export const jsonPathOrNull = (path: string | null | undefined): string | null => (path ? resolve(path) : null);

export interface JsonFailure {
  readonly command: string;
  readonly ok: false;
  readonly exitCode: number;
  /** The message as stderr shows it, without its `error: ` prefix. */
  readonly error: string;
}

export function jsonFailure(command: string, exitCode: number, message: string): JsonFailure {
  return { command, ok: false, exitCode, error: message.replace(/^error: /, "") };
}

/** The command of an argument list that asks for --json (before any `--`), or undefined. */
export function jsonCommand(argv: readonly string[]): string | undefined {
  const end = argv.indexOf("--");
  const args = end < 0 ? argv : argv.slice(0, end);
  const command = args[0];
  return command !== undefined && !command.startsWith("-") && args.includes("--json") ? command : undefined;
}

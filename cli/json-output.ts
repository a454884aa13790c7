// --json: a command prints one JSON object on stdout and nothing else there; its prose lines and
// progress go to stderr so a script can parse stdout whole.
import { print, printError } from "./report.js";

/** The object, pretty-printed, as the command's whole stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where a command's prose lines go: stdout normally, stderr under --json. */
export function proseFor(json: boolean | undefined): (line: string) => void {
  return json ? printError : print;
}

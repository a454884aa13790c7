// `unetc explain E0401`: what a diagnostic code means and how to fix it.
import type { Command } from "commander";
import { CODES, type DiagnosticCode } from "../../compiler/diagnostics/codes.js";
import type { SetExit } from "../options.js";

export function addExplainCommand(program: Command, setExit: SetExit): void {
  program
    .command("explain")
    .description("explain a diagnostic code, e.g. unetc explain E0401")
    .argument("<code>", "a diagnostic code")
    .action((code: string) => {
      const entry = CODES[code.toUpperCase() as DiagnosticCode];
      if (!entry) {
        process.stderr.write(`error: unknown diagnostic code \`${code}\`; codes are ${Object.keys(CODES).join(", ")}\n`);
        return setExit(2);
      }
      process.stdout.write(`${code.toUpperCase()}: ${entry.title}\n\n${entry.explain}\n`);
      setExit(0);
    });
}

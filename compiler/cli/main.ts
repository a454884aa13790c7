#!/usr/bin/env node
// The unetc command line. Exit codes: 0 success, 1 invalid input (a spec, a value, a file),
// 2 usage errors (unknown command or flag), 3 internal errors (a unetc bug).
import { Command, CommanderError, Option } from "commander";
import { checkSpec } from "../check/check.js";
import { CODES, type DiagnosticCode } from "../diagnostics/codes.js";
import { diagnosticToJson, renderDiagnostics } from "../diagnostics/render.js";
import { summaryJson, summaryText } from "./summary.js";

const collect = (value: string, previous: string[]) => [...previous, value];

interface SpecOptions {
  set: string[];
  model?: string;
  json?: boolean;
  color?: boolean;
}

function useColor(opts: SpecOptions): boolean {
  return opts.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
}

function runChecks(files: string[], opts: SpecOptions): number {
  let worst = 0;
  const json: unknown[] = [];
  for (const [i, f] of files.entries()) {
    if (i > 0 && !opts.json) process.stdout.write("\n");
    worst = Math.max(worst, runCheck(f, opts, json));
  }
  if (opts.json) process.stdout.write(JSON.stringify(files.length === 1 ? json[0] : json, null, 2) + "\n");
  return worst;
}

function runCheck(file: string, opts: SpecOptions, json: unknown[]): number {
  const r = checkSpec(file, { set: opts.set, model: opts.model });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (opts.json) {
    json.push(r.graph && errors.length === 0 ? { ...summaryJson(r.graph, file), diagnostics: r.diagnostics.map(diagnosticToJson) } : { ok: false, file, diagnostics: r.diagnostics.map(diagnosticToJson) });
    return errors.length || !r.graph ? 1 : 0;
  }
  if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, { color: useColor(opts) }) + "\n");
  if (errors.length || !r.graph) return 1;
  process.stdout.write(summaryText(r.graph, file) + "\n");
  return 0;
}

function specCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument(name === "check" ? "<specs...>" : "<spec>", name === "check" ? "one or more .unet spec files" : "a .unet spec file")
    .option("--set <key=value>", "override a model parameter (repeatable), e.g. --set attn_start=2 --set nfs=[16,32,64]", collect, [])
    .option("--model <name>", "the model to use when the file defines several")
    .addOption(new Option("--color", "colour diagnostics").default(undefined))
    .option("--no-color", "plain diagnostics");
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("unetc")
    .description("A compiler for diffusion UNets: check, compile and run .unet specs")
    .version("0.1.0")
    .showHelpAfterError(true)
    .exitOverride();

  specCommand(program, "check", "check a spec and print its per-layer summary and totals")
    .option("--json", "print the summary (or the diagnostics) as JSON")
    .action((files: string[], opts: SpecOptions) => setExit(runChecks(files, opts)));

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

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    }
    process.stderr.write(`internal error: ${(err as Error).message}\nThis is a bug in unetc; please report it with the command that caused it.\n`);
    if (process.env.UNETC_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 3;
  }
}

// `unetc check ... | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const code = await main(process.argv.slice(2));
process.exitCode = code;

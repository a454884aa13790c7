#!/usr/bin/env node
// The unetc command line: the program assembled from its commands (cli/commands/*), and the one
// place a command's error becomes an exit code (cli/report.ts). Exit codes: 0 success, 1 invalid
// input (a spec, a value, a file), 2 usage errors (unknown command or flag), 3 internal errors.
import { Command } from "commander";
import { addAblateCommand } from "./commands/ablate.js";
import { addEvalCommand } from "./commands/eval.js";
import { addExplainCommand } from "./commands/explain.js";
import { addExportCommand } from "./commands/export.js";
import { addProfileCommand } from "./commands/profile.js";
import { addSampleCommand } from "./commands/sample.js";
import { addSpecCommands } from "./commands/spec.js";
import { addTrainCommand } from "./commands/train.js";
import { addTuneCommand } from "./commands/tune.js";
import { jsonCommand, jsonFailure, jsonPrinted, printJson } from "./json-output.js";
import type { SetExit } from "./options.js";
import { reportFailure } from "./report.js";

export function buildProgram(setExit: SetExit): Command {
  const program = new Command("unetc")
    .description("A compiler for diffusion UNets: check, compile, run, train and sample .unet specs")
    .version("0.1.0")
    .showHelpAfterError(true)
    .exitOverride();
  addSpecCommands(program, setExit);
  addProfileCommand(program, setExit);
  addTuneCommand(program, setExit);
  addTrainCommand(program, setExit);
  addSampleCommand(program, setExit);
  addEvalCommand(program, setExit);
  addAblateCommand(program, setExit);
  addExportCommand(program, setExit);
  addExplainCommand(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let message = "see the messages on stderr";
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    ({ code, message } = reportFailure(err));
  }
  // --json: a failure that printed no object of its own still leaves one on stdout.
  const json = jsonCommand(argv);
  if (json && code !== 0 && !jsonPrinted()) printJson(jsonFailure(json, code, message));
  return code;
}

// `unetc check ... | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const code = await main(process.argv.slice(2));
process.exitCode = code;

// Times the compiled training step on the reference interpreter (the CPU path every test and
// CPU run uses): median ms/step over a few steps of a synthetic batch. To compare two versions
// of the interpreter, run this same file in a worktree of each, alternating, on an idle machine
// (bench/RESULTS.md has the figures).
//   npm run bench:reference -- [--spec F] [--batch B] [--steps N]
import { checkSpec } from "../compiler/check/check.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { createStepSession } from "../runtime/session/step-session.js";
import { timeSteps } from "./time-steps.js";

const args = { spec: "models/metrics/fmnist_classifier.unet", batch: 128, steps: 4 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i];
  if (k === "--spec") args.spec = argv[++i];
  else if (k === "--batch") args.batch = Number(argv[++i]);
  else if (k === "--steps") args.steps = Number(argv[++i]);
  else throw new Error(`unknown option ${k}`);
}

const checked = checkSpec(args.spec, { set: [] });
if (!checked.graph) {
  console.error(renderDiagnostics(checked.diagnostics));
  process.exit(1);
}
const model = checked.graph;

const session = await createStepSession(model, { batch: args.batch, optimizer: "adam", device: "reference", seed: 0 });
const { median } = await timeSteps(session, model, args.batch, args.steps);
console.log(`${args.spec} batch ${args.batch}: reference interpreter ${median.toFixed(0)} ms/step (median of ${args.steps})`);

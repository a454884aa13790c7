// Times the compiled training step on the reference interpreter (the CPU path every test and
// CPU run uses): median ms/step over a few steps of a synthetic batch. To compare two versions
// of the interpreter, run this same file in a worktree of each, alternating, on an idle machine
// (bench/RESULTS.md has the figures).
//   npm run bench:reference -- [--spec F] [--batch B] [--steps N]
import { checkSpec } from "../compiler/check/check.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { createStepSession, syntheticBatch } from "../runtime/session/step-session.js";
import { Rng } from "../runtime/session/rng.js";

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
const data = syntheticBatch(model, args.batch, new Rng(1));
const logits = model.nodes[model.output].shape;
// a classifier's target is a one-hot row per sample
if (!data.has("target")) data.set("target", { shape: [args.batch, ...logits], data: Float32Array.from({ length: args.batch * logits[0] }, (_, i) => (i % logits[0] === 0 ? 1 : 0)) });

const times: number[] = [];
for (let s = 0; s <= args.steps; s++) { // step 0 warms the JIT
  const t = performance.now();
  session.feedBatch(data);
  session.setHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step: s + 1 });
  session.runner.run();
  if (s > 0) times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(`${args.spec} batch ${args.batch}: reference interpreter ${times[Math.floor(times.length / 2)].toFixed(0)} ms/step (median of ${args.steps})`);

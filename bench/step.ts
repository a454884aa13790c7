// npm run bench: time the compiled training step of a model on this machine's WebGPU adapter
// and on a baseline measured in the same run (the reference interpreter by default; on a GPU
// machine, `--baseline none` beside bench/torch_step.py in the same session: bench/RESULTS.md's
// first section, and scripts/pack-gpu-bundle.sh). Prints ms/step, images/s, achieved FLOP/s and the
// memory plan. The same step compiled with --opt 0 (every optimization off) is timed in the same
// run too, so a compiler optimization shows as a ratio, and so is the same model written with
// TensorFlow.js ops (bench/tfjs) on TF.js's WebGPU backend on the same Dawn adapter, a baseline
// outside unetc. Usage: bench/step.ts [--config S|M] [--spec F] [--set k=v ...] [--batch B]
// [--steps N] [--baseline reference|none] [--opt0 yes|no] [--tfjs yes|no] [--json out.json]
import { writeFileSync } from "node:fs";
import { checkSpec } from "../compiler/check/check.js";
import { modelTotals, type ModelGraph } from "../compiler/check/model-graph.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { isSource } from "../compiler/ir/types.js";
import { createStepSession } from "../runtime/session/step-session.js";
import { timeSteps, type StepTimes } from "./time-steps.js";
import { WebGpuRunner } from "../runtime/session/runner.js";
import { describeAdapter, deviceTarget } from "../runtime/webgpu/device.js";
import { tileCachePath } from "../runtime/webgpu/tile-cache.js";

interface Args {
  spec: string;
  set: string[];
  batch: number;
  steps: number;
  baseline: "reference" | "none";
  opt0: boolean;
  tfjs: boolean;
  config?: keyof typeof CONFIGS;
  json?: string;
}

/** The benchmark's two sizes of the lesson's model (issue 11), at batch 32 of 32x32 images. */
const CONFIGS = {
  /** small: three levels, one resblock each, attention from level 1 */
  S: ["nfs=[16,32,64]", "num_layers=1", "attn_chans=8", "attn_start=1", "classes=10"],
  /** the lesson's model: nfs 32..256, two resblocks a level, attention from level 1 */
  M: ["classes=10"],
} as const;
const CONFIG_BATCH = 32;

function parseArgs(argv: string[]): Args {
  const a: Args = { spec: "models/lesson/emb_unet.unet", set: [], batch: 8, steps: 5, baseline: "reference", opt0: true, tfjs: true };
  let batch: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (k === "--spec") a.spec = v;
    else if (k === "--set") a.set.push(v);
    else if (k === "--batch") batch = Number(v);
    else if (k === "--steps") a.steps = Number(v);
    else if (k === "--baseline") a.baseline = v as Args["baseline"];
    else if (k === "--opt0") a.opt0 = v !== "no";
    else if (k === "--tfjs") a.tfjs = v !== "no";
    else if (k === "--config") {
      if (v !== "S" && v !== "M") throw new Error(`--config is S or M, not ${v}`);
      a.config = v;
    } else if (k === "--json") a.json = v;
    else throw new Error(`unknown option ${k}`);
  }
  if (a.config) {
    a.spec = "models/lesson/emb_unet.unet";
    a.set = [...CONFIGS[a.config], ...a.set]; // a --set given too refines the config
  }
  a.batch = batch ?? (a.config ? CONFIG_BATCH : a.batch);
  return a;
}

/** "unetc is N.NNx faster than X" (or slower), from two medians in ms. */
function ratio(unetcMs: number, otherMs: number, other: string): string {
  return unetcMs <= otherMs ? `unetc is ${(otherMs / unetcMs).toFixed(2)}x faster than ${other}` : `unetc is ${(unetcMs / otherMs).toFixed(2)}x slower than ${other}`;
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

const args = parseArgs(process.argv.slice(2));
const checked = checkSpec(args.spec, { set: args.set });
if (!checked.graph) {
  console.error(renderDiagnostics(checked.diagnostics));
  process.exit(1);
}
const model = checked.graph;
const fwdFlops = modelTotals(model).flops * args.batch;
const stepFlops = 3 * fwdFlops; // forward + backward (about twice the forward)
const result: Record<string, unknown> = { spec: args.spec, config: args.config, set: args.set, batch: args.batch, steps: args.steps, stepFlops };

const t0 = performance.now();
const gpuSession = await createStepSession(model, { batch: args.batch, optimizer: "adam", device: "webgpu", seed: 0 });
const compileMs = performance.now() - t0;
console.log(describeAdapter(gpuSession.gpu!));
const stats = (gpuSession.runner as WebGpuRunner).executor.stats;
const report = gpuSession.compiled.report;
const ops = gpuSession.graph.nodes.filter((n) => !isSource(n)).length;
console.log(`model ${model.name} ${args.set.join(" ")}, batch ${args.batch}: ${ops} graph ops -> ${stats.kernels} kernels (${stats.pipelines} pipelines), compile ${(compileMs / 1000).toFixed(1)} s`);
if (stats.ahead) console.log(`compiled ahead: ${stats.ahead.main} pipelines on the device, ${stats.ahead.helpers} on ${stats.ahead.devices} helper device(s)`);
console.log(`memory plan: peak live ${(report.peakLiveBytes / 2 ** 20).toFixed(1)} MiB, allocated ${(report.allocatedBytes / 2 ** 20).toFixed(1)} MiB (no reuse ${(report.naiveBytes / 2 ** 20).toFixed(1)} MiB), persistent ${(report.persistentBytes / 2 ** 20).toFixed(1)} MiB`);
const gpu = await timeSteps(gpuSession, model, args.batch, args.steps);
gpuSession.runner.destroy();
console.log(`webgpu: first step ${(gpu.first / 1000).toFixed(2)} s (${stats.ahead ? "its pipelines compiled ahead, in the compile time above" : "pipeline warm-up"}), then ${gpu.median.toFixed(1)} ms/step, ${((args.batch * 1000) / gpu.median).toFixed(1)} images/s, ${(stepFlops / gpu.median / 1e6).toFixed(2)} GFLOP/s, loss ${gpu.loss.toFixed(4)}`);
Object.assign(result, { adapter: gpuSession.gpu!.adapterInfo, kernels: stats.kernels, pipelines: stats.pipelines, compileMs, webgpu: gpu, plan: { peakLive: report.peakLiveBytes, allocated: report.allocatedBytes, naive: report.naiveBytes } });

// GEMM tiles from `unetc tune`'s table for this adapter, if any: then the default tiles are timed too
const tuned = deviceTarget(gpuSession.gpu!).tiles ?? {};
const gemmKernels = gpuSession.compiled.kernels.filter((k) => k.source.gemm);
const tunedKernels = gemmKernels.filter((k) => tuned[k.source.gemm!.signature]).length;
console.log(`GEMM tiles: ${tunedKernels} of ${gemmKernels.length} GEMM kernels tuned for this adapter (${tileCachePath()}${process.env.UNETC_TILES === "default" ? ", ignored: UNETC_TILES=default" : ""})`);
if (tunedKernels > 0) {
  const plain = await createStepSession(model, { batch: args.batch, optimizer: "adam", device: "webgpu", seed: 0, tiles: {} });
  const t = await timeSteps(plain, model, args.batch, args.steps);
  plain.runner.destroy();
  console.log(`webgpu with the default tiles (same run): first step ${(t.first / 1000).toFixed(2)} s, then ${t.median.toFixed(1)} ms/step; ratio tuned / default tiles: ${(t.median / gpu.median).toFixed(2)}x faster`);
  result.defaultTiles = { tunedKernels, ...t };
}

if (args.opt0) {
  const plain = await createStepSession(model, { batch: args.batch, optimizer: "adam", device: "webgpu", seed: 0, opt: 0 });
  const kernels = (plain.runner as WebGpuRunner).executor.stats.kernels;
  const t = await timeSteps(plain, model, args.batch, args.steps);
  plain.runner.destroy();
  console.log(`webgpu --opt 0 (same run): ${kernels} kernels, first step ${(t.first / 1000).toFixed(2)} s, then ${t.median.toFixed(1)} ms/step, loss ${t.loss.toFixed(4)}`);
  console.log(`ratio webgpu / webgpu --opt 0: ${(t.median / gpu.median).toFixed(2)}x faster`);
  result.opt0 = { kernels, ...t };
}

if (args.tfjs) {
  // loaded only here: TF.js is a devDependency, and --tfjs no runs without it
  const tfjs = await loadTfjs();
  if (typeof tfjs === "string") {
    console.log(`TF.js WebGPU: not run (${tfjs})`);
    result.tfjs = { error: tfjs };
  } else {
    const adapter = await tfjs.useTfjsWebGpu(); // its own Dawn instance: the same adapter, a device of its own
    const t = await tfjs.timeTfjsSteps(model, args.batch, args.steps);
    const lossDiff = relDiff(t.firstLoss, gpu.firstLoss);
    console.log(`TF.js ${tfjs.version} WebGPU (same run, adapter ${adapter}): first step ${(t.first / 1000).toFixed(2)} s, then ${t.median.toFixed(1)} ms/step, ${((args.batch * 1000) / t.median).toFixed(1)} images/s, loss ${t.loss.toFixed(4)}`);
    console.log(
      `TF.js loss vs unetc webgpu: first step ${t.firstLoss.toFixed(6)} vs ${gpu.firstLoss.toFixed(6)} (relative difference ${lossDiff.toExponential(1)}), ` +
        `step ${args.steps + 1} ${t.loss.toFixed(6)} vs ${gpu.loss.toFixed(6)} (${relDiff(t.loss, gpu.loss).toExponential(1)})${t.tensorsLeaked ? `; ${t.tensorsLeaked} tensors leaked` : ""}`,
    );
    console.log(`ratio webgpu / TF.js WebGPU: ${ratio(gpu.median, t.median, "TF.js")} (first step: ${ratio(gpu.first, t.first, "TF.js")})`);
    result.tfjs = { version: tfjs.version, adapter, ...t, imagesPerSec: (args.batch * 1000) / t.median, firstLossRelDiff: lossDiff, speedup: t.median / gpu.median };
  }
}

if (args.baseline === "reference") {
  const refSession = await createStepSession(model, { batch: args.batch, optimizer: "adam", device: "reference", seed: 0 });
  const ref = await timeSteps(refSession, model, args.batch, Math.min(args.steps, 3));
  console.log(`reference interpreter (baseline, same run): ${ref.median.toFixed(1)} ms/step, loss ${ref.loss.toFixed(4)}`);
  console.log(`ratio webgpu / reference: ${(ref.median / gpu.median).toFixed(2)}x faster`);
  console.log(`reference first-step loss ${ref.firstLoss.toFixed(6)} vs unetc webgpu ${gpu.firstLoss.toFixed(6)} (relative difference ${relDiff(ref.firstLoss, gpu.firstLoss).toExponential(1)})`);
  result.reference = ref;
}
if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));

interface TfjsBench {
  version: string;
  useTfjsWebGpu: () => Promise<string>;
  timeTfjsSteps: (model: ModelGraph, batch: number, steps: number) => Promise<StepTimes & { tensorsLeaked: number }>;
}

/** The TF.js baseline's modules, or why they cannot load (TF.js not installed). */
async function loadTfjs(): Promise<TfjsBench | string> {
  try {
    const [{ useTfjsWebGpu }, { timeTfjsSteps }, core] = await Promise.all([import("./tfjs/webgpu.js"), import("./tfjs/time-tfjs.js"), import("@tensorflow/tfjs-core")]);
    return { version: core.version_core, useTfjsWebGpu, timeTfjsSteps };
  } catch (err) {
    return `TF.js did not load: ${(err as Error).message}; it is a devDependency (npm install)`;
  }
}

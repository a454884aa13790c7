// Micro-benchmark of the softmax and reduce kernels at the shapes a compiled training step
// really has: compiles a config's step, takes each distinct (op, input shape, axes) with how
// often it occurs, and times this tree's kernel and, with --baseline DIR (a checkout of an
// older commit, e.g. `git worktree add --detach /tmp/base-reduce HEAD`), that checkout's kernel
// for the same node, in one run. Prints per shape and in total (each shape times its count).
//
//   npx tsx bench/reductions.ts [--config S|M] [--batch B] [--only softmax|reduce]
//     [--baseline DIR] [--runs N] [--extra]
//
// S: models/lesson/emb_unet.unet with nfs [16,32,64], 1 layer, attention (8 channels a head)
// from level 1, 10 classes; M: the lesson's model, nfs [32,64,128,256], 2 layers, attention
// from level 1, 10 classes. --extra adds shapes no step has, to show the plans' edges (a
// single long reduction, few long rows). Not a test.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { checkSpec } from "../compiler/check/check.js";
import { compile, kernelLimits } from "../compiler/compile.js";
import type { OpKind } from "../compiler/ir/kinds.js";
import type { OpNode, ValueType } from "../compiler/ir/types.js";
import { registry } from "../compiler/ops/index.js";
import type { KernelLimits, KernelSource } from "../compiler/wgsl/kernel.js";
import { acquireDevice, describeAdapter, deviceTarget, type GpuContext } from "../runtime/webgpu/device.js";
import { PipelineCache } from "../runtime/webgpu/pipelines.js";
import { settle } from "../runtime/webgpu/settle.js";

type Registry = typeof registry;
type Kind = "softmax" | "reduce_sum" | "reduce_mean" | "reduce_max";

const CONFIGS: Record<string, string[]> = {
  S: ["nfs=[16,32,64]", "num_layers=1", "attn_chans=8", "attn_start=1", "classes=10"],
  M: ["nfs=[32,64,128,256]", "num_layers=2", "attn_start=1", "classes=10"],
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Case {
  op: Kind;
  x: ValueType;
  out: ValueType;
  axes: number[];
  /** How many kernels of the step have this node. */
  count: number;
  /** Not in the step (--extra): left out of the totals. */
  extra?: boolean;
}

const numel = (t: ValueType) => t.shape.reduce((a, b) => a * b, 1);
const f32 = (shape: number[]): ValueType => ({ shape, dtype: "f32" });

/** Distinct softmax and reduce nodes of the config's training step, with their counts. */
function stepCases(config: string, batch: number): Case[] {
  const checked = checkSpec("models/lesson/emb_unet.unet", { set: CONFIGS[config] });
  if (!checked.graph) throw new Error(`config ${config} does not check`);
  const { graph, kernels } = compile(checked.graph, { batch, mode: "step" });
  const cases = new Map<string, Case>();
  for (const k of kernels) {
    for (const id of k.nodes) {
      const n = graph.nodes[id] as OpNode;
      if (n.op !== "softmax" && n.op !== "reduce_sum" && n.op !== "reduce_mean" && n.op !== "reduce_max") continue;
      const x = graph.nodes[n.inputs[0]];
      const axes = n.op === "softmax" ? [x.shape.length - 1] : [...n.params.axes];
      const key = `${n.op} ${x.shape} ${axes}`;
      const c = cases.get(key);
      if (c) c.count++;
      else cases.set(key, { op: n.op, x: f32([...x.shape]), out: f32([...n.shape]), axes, count: 1 });
    }
  }
  return [...cases.values()];
}

function extraCases(): Case[] {
  const all = (shape: number[]): Case => ({ op: "reduce_mean", x: f32(shape), out: f32([]), axes: shape.map((_, i) => i), count: 1, extra: true });
  return [
    all([512, 1, 32, 32]), // the loss's mean at batch 512: one output
    { op: "reduce_sum", x: f32([4, 65536]), out: f32([4]), axes: [1], count: 1, extra: true }, // few long rows
    { op: "softmax", x: f32([4, 8192]), out: f32([4, 8192]), axes: [1], count: 1, extra: true },
  ];
}

function kernelOf(reg: Registry, c: Case, limits: KernelLimits): KernelSource {
  const req = { inputs: [c.x], out: c.out, limits };
  if (c.op === "softmax") return reg.softmax.wgsl!({ ...req, params: {} });
  const keepdims = c.out.shape.length === c.x.shape.length;
  return reg[c.op].wgsl!({ ...req, params: { axes: c.axes, keepdims } });
}

interface Timing {
  /** Median wall ms per dispatch. */
  wall: number;
  /** Median process CPU ms per dispatch (lavapipe runs on this process's threads). */
  cpu: number;
  /** Pipeline creation plus the first dispatch (lavapipe compiles the shader there). */
  firstMs: number;
}

/** Times one kernel: reps dispatches in one command buffer, reps grown to >= 20 ms a run. */
async function time(ctx: GpuContext, pipelines: PipelineCache, c: Case, kernel: KernelSource, runs: number): Promise<Timing> {
  const { device } = ctx;
  const input = device.createBuffer({ size: Math.max(16, numel(c.x) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const output = device.createBuffer({ size: Math.max(16, numel(c.out) * 4), usage: GPUBufferUsage.STORAGE });
  device.queue.writeBuffer(input, 0, Float32Array.from({ length: numel(c.x) }, (_, j) => ((j * 7919) % 1000) / 100 - 5));
  const t0 = performance.now();
  const pipeline = await pipelines.get(kernel.code, `${c.op} ${c.x.shape}`);
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [input, output].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const run = async (reps: number) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let r = 0; r < reps; r++) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...kernel.workgroups);
    }
    pass.end();
    const commands = encoder.finish();
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    device.queue.submit([commands]);
    await settle(device.queue.onSubmittedWorkDone(), ctx.adapterInfo.isSoftware); // as the executor waits: no polling core on lavapipe
    const cpu = process.cpuUsage(c0);
    return { wall: (performance.now() - w0) / reps, cpu: (cpu.user + cpu.system) / 1e3 / reps };
  };
  await run(1);
  const firstMs = performance.now() - t0;
  let reps = 1;
  while ((await run(reps)).wall * reps < 20 && reps < 1024) reps *= 4;
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await run(reps));
  if (ctx.failures.length) throw new Error(ctx.failures.join("\n"));
  input.destroy();
  output.destroy();
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)), firstMs };
}

const fmt = (ms: number) => ms.toFixed(2);

async function main(): Promise<void> {
  const config = arg("config") ?? "S";
  const batch = Number(arg("batch") ?? 8);
  const only = arg("only");
  const runs = Number(arg("runs") ?? 5);
  const baseDir = arg("baseline");
  const base = baseDir ? ((await import(`${baseDir}/compiler/ops/index.ts`)) as { registry: Registry }).registry : undefined;
  const ctx = await acquireDevice();
  console.log(describeAdapter(ctx));
  console.log(`config ${config} batch ${batch}; median of ${runs} runs; host load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs; ${new Date().toISOString().slice(0, 10)}\n`);
  const limits: KernelLimits = kernelLimits(deviceTarget(ctx));
  const pipelines = new PipelineCache(ctx.device);
  const cases = [...stepCases(config, batch), ...(process.argv.includes("--extra") ? extraCases() : [])]
    .filter((c) => !only || (only === "reduce" ? c.op !== "softmax" : c.op === only));
  const rows: Array<{ c: Case; old?: Timing; now: Timing }> = [];
  for (const c of cases) {
    const old = base ? await time(ctx, pipelines, c, kernelOf(base, c, limits), runs) : undefined;
    const now = await time(ctx, pipelines, c, kernelOf(registry, c, limits), runs);
    rows.push({ c, old, now });
  }
  // biggest baseline cost first: where the time went
  rows.sort((a, b) => (b.old?.wall ?? b.now.wall) * b.c.count - (a.old?.wall ?? a.now.wall) * a.c.count);
  console.log(`| op | x | axes | kernels | ${base ? "before ms | " : ""}after ms | ${base ? "ratio | " : ""}after first dispatch ms |`);
  console.log(`|:--|:--|:--|--:|${base ? "--:|" : ""}--:|${base ? "--:|" : ""}--:|`);
  for (const { c, old, now } of rows) {
    const ratio = old ? `${(old.wall / now.wall).toFixed(1)}x | ` : "";
    console.log(`| ${c.op} | [${c.x.shape}] | [${c.axes}] | ${c.count} | ${old ? `${fmt(old.wall)} | ` : ""}${fmt(now.wall)} | ${ratio}${now.firstMs.toFixed(0)} |`);
  }
  for (const kind of ["softmax", "reduce"]) {
    const mine = rows.filter((r) => (kind === "softmax") === (r.c.op === "softmax") && !r.c.extra);
    if (!mine.length) continue;
    const sum = (f: (r: (typeof rows)[number]) => number) => mine.reduce((a, r) => a + f(r) * r.c.count, 0);
    const kernels = mine.reduce((a, r) => a + r.c.count, 0);
    const now = sum((r) => r.now.wall);
    const line = base ? `${fmt(sum((r) => r.old!.wall))} ms -> ${fmt(now)} ms (${(sum((r) => r.old!.wall) / now).toFixed(1)}x; CPU ${fmt(sum((r) => r.old!.cpu))} -> ${fmt(sum((r) => r.now.cpu))} ms)` : `${fmt(now)} ms`;
    console.log(`\n${kind}: ${kernels} kernels of the step, ${line}`);
  }
  await ctx.device.queue.onSubmittedWorkDone();
  ctx.device.destroy();
  process.exit(0);
}

await main();

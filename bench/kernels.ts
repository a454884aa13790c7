// Micro-benchmark of the tiled GEMM kernels (matmul and the three convolutions) on the current
// WebGPU adapter: GFLOP/s as the median of a few timed runs after a warm-up, per tile
// configuration (all candidates on a GPU, the default on a software adapter). Not a test; it
// prints the adapter so lavapipe and GPU numbers can be compared.
//
//   npx tsx bench/kernels.ts [--size full|small] [--tiles all|default] [--reps N] [--only NAME]
//
// --size full: matmul 512x512x512 and conv2d x [64, 64, 32, 32], w [64, 64, 3, 3], pad 1
// (with its two gradients; the weight gradient also split-K into S sample groups,
// conv2d_weight_grad_partial then reduce_sum over the parts, both timed, for several S and for
// the S the conv2d VJP rule picks). --size small (the default on software adapters, to stay
// under ~30 s on lavapipe): the same conv with batch 4 and a 256^3 matmul.
// Each timed run encodes `reps` dispatches into one command buffer and waits for it, so
// per-submit overhead is amortised; reps grows until a run takes >= 20 ms. On a software
// adapter (lavapipe runs on the host CPU) it also prints GFLOP per CPU-second of this
// process, which other load on the machine does not skew as it does wall time.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { acquireDevice, describeAdapter, deviceTarget, type GpuContext } from "../runtime/webgpu/device.js";
import { kernelLimits } from "../compiler/compile.js";
import { PipelineCache } from "../runtime/webgpu/pipelines.js";
import { settle } from "../runtime/webgpu/settle.js";
import { packUniforms } from "../runtime/webgpu/uniforms.js";
import type { KernelLimits, KernelRequest, KernelSource } from "../compiler/wgsl/kernel.js";
import type { GemmTiles } from "../compiler/wgsl/gemm.js";
import { TILES_32, TILES_64, TILES_64_UNROLLED, defaultTiles } from "../compiler/wgsl/gemm.js";
import { matmulKernel } from "../compiler/ops/matmul.js";
import { conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel, conv2dWeightGradPartialKernel, convOutSize, weightGradSplits } from "../compiler/ops/conv2d.js";
import { registry } from "../compiler/ops/index.js";
import type { OpKind } from "../compiler/ir/kinds.js";
import type { ValueType } from "../compiler/ir/types.js";

const CANDIDATES: GemmTiles[] = [
  TILES_64,
  TILES_32,
  { ...TILES_32, unroll: true },
  { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 },
  { bm: 64, bn: 64, bk: 8, tm: 4, tn: 4 },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 8, tm: 8, tn: 4 },
  { bm: 64, bn: 128, bk: 8, tm: 4, tn: 8 },
  TILES_64_UNROLLED,
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, unroll: true },
];

const tileName = (t: GemmTiles) => (t.direct ? `direct ${t.bm}x${t.bn}/${t.tm}x${t.tn}` : `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}${t.unroll ? " unrolled" : ""}`);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface Case {
  name: string;
  flops: number;
  inputs: ValueType[];
  out: ValueType;
  kernel: (limits: KernelLimits, tiles: GemmTiles) => KernelSource;
  gemm: [number, number, number];
  /** GEMM batch (split-K parts). */
  batch?: number;
  /** The kernel writes these parts; a reduce_sum over their axis 0 then writes `out`. */
  parts?: ValueType;
}

const f32 = (shape: number[]): ValueType => ({ shape, dtype: "f32" });
const req = <K extends OpKind>(inputs: ValueType[], out: ValueType, params: KernelRequest<K>["params"], limits: KernelLimits): KernelRequest<K> => ({ inputs, out, params, limits });

function cases(full: boolean): Case[] {
  const mm = full ? 512 : 256;
  const [n, ci, h, w, co, k] = [full ? 64 : 4, 64, 32, 32, 64, 3];
  const conv = { stride: 1, padding: 1 };
  const [oh, ow] = [convOutSize(h, k, conv), convOutSize(w, k, conv)];
  const x = f32([n, ci, h, w]);
  const wt = f32([co, ci, k, k]);
  const y = f32([n, co, oh, ow]);
  const convFlops = 2 * n * co * oh * ow * ci * k * k;
  return [
    {
      name: `matmul ${mm}x${mm}x${mm}`,
      flops: 2 * mm ** 3,
      inputs: [f32([mm, mm]), f32([mm, mm])],
      out: f32([mm, mm]),
      kernel: (l, t) => matmulKernel(req<"matmul">([f32([mm, mm]), f32([mm, mm])], f32([mm, mm]), {}, l), t),
      gemm: [mm, mm, mm],
    },
    {
      name: `conv2d x [${x.shape}] w [${wt.shape}] pad 1`,
      flops: convFlops,
      inputs: [x, wt],
      out: y,
      kernel: (l, t) => conv2dKernel(req<"conv2d">([x, wt], y, conv, l), t),
      gemm: [co, n * oh * ow, ci * k * k],
    },
    {
      name: "conv2d_input_grad (same conv)",
      flops: convFlops,
      inputs: [y, wt],
      out: x,
      kernel: (l, t) => conv2dInputGradKernel(req<"conv2d_input_grad">([y, wt], x, { ...conv, inputSize: [h, w] }, l), t),
      gemm: [ci, n * h * w, co * k * k],
    },
    {
      name: "conv2d_weight_grad (same conv)",
      flops: convFlops,
      inputs: [x, y],
      out: wt,
      kernel: (l, t) => conv2dWeightGradKernel(req<"conv2d_weight_grad">([x, y], wt, { ...conv, kernelSize: [k, k] }, l), t),
      gemm: [co, ci * k * k, n * oh * ow],
    },
    ...[...new Set([...(full ? [8, 16, 32, 64] : [2, 4]), weightGradSplits(x.shape, y.shape, [k, k])])].filter((s) => s > 1).map((splits): Case => {
      const parts = f32([splits, co, ci, k, k]);
      const auto = splits === weightGradSplits(x.shape, y.shape, [k, k]) ? ", VJP rule's" : "";
      return {
        name: `conv2d_weight_grad split ${splits}${auto} (+reduce_sum)`,
        flops: convFlops,
        inputs: [x, y],
        out: wt,
        parts,
        kernel: (l, t) => conv2dWeightGradPartialKernel(req<"conv2d_weight_grad_partial">([x, y], parts, { ...conv, kernelSize: [k, k], splits }, l), t),
        gemm: [co, ci * k * k, n * oh * ow],
        batch: splits,
      };
    }),
  ];
}

const numel = (t: ValueType) => t.shape.reduce((a, b) => a * b, 1);

export interface Timing {
  /** Median wall seconds per dispatch. */
  wall: number;
  /** Median process CPU seconds per dispatch: lavapipe's real cost when other work shares the CPU. */
  cpu: number;
  /** Wall seconds of the first dispatch: on lavapipe it includes LLVM compiling the shader. */
  first?: number;
}

/** Times one kernel; every GPU object stays referenced until its work is done. */
export async function time(ctx: GpuContext, pipelines: PipelineCache, c: Case, kernel: KernelSource, runs: number): Promise<Timing> {
  const { device } = ctx;
  const keep: object[] = [];
  const buffers = [...c.inputs, ...(c.parts ? [c.parts] : []), c.out].map((t) => {
    const b = device.createBuffer({ size: Math.max(16, numel(t) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    keep.push(b);
    return b;
  });
  c.inputs.forEach((t, i) => {
    const data = Float32Array.from({ length: numel(t) }, (_, j) => ((j * 7919) % 1000) / 1000 - 0.5);
    device.queue.writeBuffer(buffers[i], 0, data as unknown as GPUAllowSharedBufferSource);
  });
  // the GEMM writes the last buffer, or the parts that a reduce_sum then sums into the last
  const stages: Array<{ kernel: KernelSource; bufs: GPUBuffer[] }> = [{ kernel, bufs: c.parts ? buffers.slice(0, -1) : buffers }];
  if (c.parts) {
    const limits = { maxWorkgroupsPerDimension: ctx.limits.maxComputeWorkgroupsPerDimension };
    const sum = registry.reduce_sum.wgsl!({ inputs: [c.parts], out: c.out, params: { axes: [0], keepdims: false }, limits });
    stages.push({ kernel: sum, bufs: buffers.slice(-2) });
  }
  const bound = await Promise.all(
    stages.map(async ({ kernel: k, bufs }, i) => {
      const pipeline = await pipelines.get(k.code, `${c.name} ${i}`);
      const layout = pipeline.getBindGroupLayout(0);
      const entries: GPUBindGroupEntry[] = bufs.map((buffer, binding) => ({ binding, resource: { buffer } }));
      const dims = packUniforms(device, [k.uniforms]);
      if (dims.regions[0]) entries.push({ binding: entries.length, resource: dims.regions[0] });
      const bindGroup = device.createBindGroup({ layout, entries });
      keep.push(pipeline, layout, bindGroup, ...(dims.buffer ? [dims.buffer] : []));
      return { pipeline, bindGroup, workgroups: k.workgroups };
    }),
  );
  const run = async (reps: number) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let r = 0; r < reps; r++) {
      for (const st of bound) {
        pass.setPipeline(st.pipeline);
        pass.setBindGroup(0, st.bindGroup);
        pass.dispatchWorkgroups(...st.workgroups);
      }
    }
    pass.end();
    const commands = encoder.finish();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    device.queue.submit([commands]);
    await settle(device.queue.onSubmittedWorkDone(), ctx.adapterInfo.isSoftware); // as the executor waits: no polling core on lavapipe
    const cpu = process.cpuUsage(c0);
    keep.push(encoder, pass, commands);
    return { wall: (performance.now() - t0) / 1000 / reps, cpu: (cpu.user + cpu.system) / 1e6 / reps };
  };
  const first = (await run(1)).wall; // warm-up (lavapipe compiles the shader at its first dispatch)
  let reps = 1;
  while ((await run(reps)).wall * reps < 0.02 && reps < 4096) reps *= 4;
  const times: Timing[] = [];
  for (let i = 0; i < runs; i++) times.push(await run(reps));
  if (ctx.failures.length) throw new Error(ctx.failures.join("\n"));
  for (const b of buffers) b.destroy();
  keep.length = 0;
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)), first };
}

async function main(): Promise<void> {
  const ctx = await acquireDevice();
  console.log(describeAdapter(ctx));
  const software = ctx.adapterInfo.isSoftware;
  const full = (arg("size") ?? (software ? "small" : "full")) === "full";
  const allTiles = (arg("tiles") ?? (software ? "default" : "all")) === "all";
  const runs = Number(arg("reps") ?? 5);
  console.log(`size ${full ? "full" : "small"}, median of ${runs} runs after warm-up${software ? `; host load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs` : ""}\n`);
  const limits: KernelLimits = kernelLimits(deviceTarget(ctx));
  const pipelines = new PipelineCache(ctx.device);
  const start = performance.now();
  const only = arg("only");
  for (const c of cases(full).filter((c) => !only || c.name.includes(only))) {
    const [m, n] = c.gemm;
    const def = defaultTiles({ op: c.name, batch: c.batch ?? 1, m, n, k: c.gemm[2] }, limits);
    for (const tiles of allTiles ? CANDIDATES : [def]) {
      const t = await time(ctx, pipelines, c, c.kernel(limits, tiles), runs);
      const label = tileName(tiles) + (tiles === def ? " (default)" : "");
      const cpu = software ? `   ${(c.flops / t.cpu / 1e9).toFixed(2).padStart(6)} GFLOP per CPU-second` : "";
      console.log(`${c.name.padEnd(52)} GEMM ${c.gemm.join("x").padEnd(16)} tiles ${label.padEnd(32)} ${(t.wall * 1e3).toFixed(3).padStart(9)} ms  ${(c.flops / t.wall / 1e9).toFixed(1).padStart(8)} GFLOP/s${cpu}`);
    }
  }
  console.log(`\ntotal ${((performance.now() - start) / 1000).toFixed(1)} s`);
  await ctx.device.queue.onSubmittedWorkDone();
  ctx.device.destroy();
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

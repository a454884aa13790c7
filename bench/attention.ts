// The fused attention kernels (compiler/ops/attention.ts) timed alone at the shapes of the
// lesson's attention layers, on this machine's adapter: ms per dispatch and pairs (query, key)
// per second, and the first dispatch (on lavapipe, with LLVM's compile; run with
// MESA_SHADER_CACHE_DISABLE=true to see it cold). npx tsx bench/attention.ts [--shape N,S,heads,d] [--runs 3]
import { acquireDevice, describeAdapter, deviceTarget } from "../runtime/webgpu/device.js";
import { kernelLimits } from "../compiler/compile.js";
import { PipelineCache } from "../runtime/webgpu/pipelines.js";
import { registry } from "../compiler/ops/index.js";
import type { ValueType } from "../compiler/ir/types.js";
import type { KernelLimits } from "../compiler/wgsl/kernel.js";
import { time } from "./kernels.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const f32 = (shape: number[]): ValueType => ({ shape, dtype: "f32" });

const ctx = await acquireDevice();
console.log(describeAdapter(ctx));
const pipelines = new PipelineCache(ctx.device);
const limits: KernelLimits = kernelLimits(deviceTarget(ctx));
const [n, s, heads, d] = (arg("shape") ?? "32,256,4,8").split(",").map(Number);
const runs = Number(arg("runs") ?? 3);
const qkv = f32([n, s, 3 * heads * d]);
const rows = f32([n, s, heads * d]);
const stats = f32([n, heads, s, 2]);
const lse = f32([n, heads, s]);
const ops = [
  { op: "attention" as const, inputs: [qkv], out: rows },
  { op: "attention_lse" as const, inputs: [qkv], out: lse },
  { op: "attention_stats" as const, inputs: [lse, rows, rows], out: stats },
  { op: "attention_grad" as const, inputs: [qkv, rows, stats], out: qkv },
];
const pairs = n * heads * s * s;
for (const { op, inputs, out } of ops) {
  const kernel = registry[op].wgsl!({ inputs, out, params: { heads }, limits });
  const t = await time(ctx, pipelines, { name: op, flops: 0, inputs, out, kernel: () => kernel, gemm: [0, 0, 0] }, kernel, runs);
  console.log(`${op.padEnd(16)} [${n}, ${s}, ${heads}x${d}]  ${(t.wall * 1000).toFixed(2).padStart(8)} ms  ${(pairs / t.wall / 1e6).toFixed(1).padStart(7)} M pairs/s  first dispatch ${((t.first ?? 0) * 1000).toFixed(0).padStart(6)} ms`);
}
process.exit(0);

// Micro-benchmark of the flat kernels' index decode on the current adapter: the attention
// score transpose [32, 4, 256, 8] -> [32, 4, 8, 256] (and a broadcast multiply) with the sizes
// baked in as constants against read from the Dims uniform (compiler/wgsl/dims.ts), timed in
// the same run. Not a test.   npx tsx bench/flat-decode.ts
import { acquireDevice, describeAdapter, deviceTarget } from "../runtime/webgpu/device.js";
import { kernelLimits } from "../compiler/compile.js";
import { PipelineCache } from "../runtime/webgpu/pipelines.js";
import { Dims } from "../compiler/wgsl/dims.js";
import { flatKernel, offsetsFromIndex } from "../compiler/wgsl/wgsl.js";
import type { KernelLimits } from "../compiler/wgsl/kernel.js";
import type { ValueType } from "../compiler/ir/types.js";
import { time, type Case } from "./kernels.js";

const ctx = await acquireDevice();
console.log(describeAdapter(ctx));
const limits: KernelLimits = kernelLimits(deviceTarget(ctx));
const pipelines = new PipelineCache(ctx.device);
const f32 = (shape: number[]): ValueType => ({ shape, dtype: "f32" });

const cases: Array<{ name: string; x: ValueType; out: ValueType; strides: number[] }> = [
  { name: "transpose [32,4,256,8] -> [32,4,8,256]", x: f32([32, 4, 256, 8]), out: f32([32, 4, 8, 256]), strides: [8192, 2048, 1, 8] },
  { name: "transpose [32,4,256,256] last two", x: f32([32, 4, 256, 256]), out: f32([32, 4, 256, 256]), strides: [262144, 65536, 1, 256] },
  { name: "broadcast [32,64,1,1] -> [32,64,16,16]", x: f32([32, 64, 1, 1]), out: f32([32, 64, 16, 16]), strides: [64, 1, 0, 0] },
];
for (const c of cases) {
  const n = c.out.shape.reduce((a, b) => a * b, 1);
  const baked = flatKernel([c.x], c.out, n, `${offsetsFromIndex(c.out.shape, [c.strides], ["ia"])}\n  out[i] = in0[ia];`, limits);
  const dims = new Dims();
  const generic = flatKernel([c.x], c.out, n, `${offsetsFromIndex(c.out.shape, [c.strides], ["ia"], dims)}\n  out[i] = in0[ia];`, limits, { dims });
  const kase: Case = { name: c.name, flops: 0, inputs: [c.x], out: c.out, kernel: () => baked, gemm: [0, 0, 0] };
  const a = await time(ctx, pipelines, kase, baked, 5);
  const b = await time(ctx, pipelines, kase, generic, 5);
  console.log(`${c.name.padEnd(42)} constants ${(a.wall * 1e3).toFixed(2)} ms   dims ${(b.wall * 1e3).toFixed(2)} ms   ${(b.wall / a.wall).toFixed(2)}x`);
}

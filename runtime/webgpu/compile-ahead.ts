// Compiling every pipeline before the first step, on as many threads as the machine has cores.
//
// A hardware driver compiles a pipeline when it is created (createComputePipelineAsync). Mesa's
// lavapipe does not: llvmpipe runs LLVM on a pipeline's first dispatch, on the device's single
// queue thread, so a cold first step compiled its ~84 pipelines one after another (~6 s of config
// S's first step, one core busy, the other idle). Here each distinct pipeline is dispatched once,
// one workgroup on placeholder buffers, before the program runs: the main device takes them from
// the front of the program, helper devices (compileHelpers: one per other core, each with its
// own queue thread) from the back, until they meet. A helper's compiled shader reaches the main device
// through Mesa's on-disk shader cache, which llvmpipe consults before running LLVM; the main
// device's own warm-up compiles the very pipeline objects the program dispatches.
//
// The placeholder buffers are small: every storage binding unetc emits is a runtime-sized array,
// and WebGPU clamps out-of-bounds accesses, so one workgroup computes garbage into them and
// touches nothing of the program's. The kernel's real uniform words are bound, so its loops run
// their real trip counts, at most one workgroup's share of a dispatch.
import { availableParallelism } from "node:os";
import { bindingPlaces, type Program } from "../../compiler/wgsl/program.js";
import { openSiblingDevice, type GpuContext } from "./device.js";
import { PipelineCache } from "./pipelines.js";
import { settle } from "./settle.js";

export interface AheadKernel {
  code: string;
  label: string;
  /** How many storage buffers the kernel binds (bindings 0..n-1). */
  storageBindings: number;
  /** The kernel's uniform words (bound after its storage buffers), if it has any. */
  uniform?: readonly number[];
}

export interface AheadReport {
  /** Distinct pipelines compiled on the main device, and on its helpers. */
  main: number;
  helpers: number;
  /** Helper devices used. */
  devices: number;
}

/**
 * Whether the executor compiles every pipeline before the first step: on a software adapter,
 * whose driver would compile at each pipeline's first dispatch, unless UNETC_COMPILE_AHEAD=0
 * (bench/cold-start.ts's baseline). Hardware drivers compile at creation.
 */
export function compilesAhead(ctx: GpuContext, env: NodeJS.ProcessEnv = process.env): boolean {
  return ctx.adapterInfo.isSoftware && !isOff(env.UNETC_COMPILE_AHEAD);
}

/** The most helper devices compileHelpers opens, whatever the core count. */
const MAX_COMPILE_HELPERS = 7;

/** How many helpers compileHelpers opens for `ctx` on a machine of `cores`: none where Mesa's shader cache, their way to the main device, is off. */
export function compileHelperCount(ctx: GpuContext, env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  if (!compilesAhead(ctx, env) || isOn(env.MESA_SHADER_CACHE_DISABLE)) return 0;
  return Math.max(0, Math.min(cores - 1, MAX_COMPILE_HELPERS));
}

const isOn = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const isOff = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());

const helpers = new WeakMap<GpuContext, Promise<GPUDevice[]>>();

/**
 * The helper devices of `ctx` (compileHelperCount of them), opened once per process. One that
 * cannot be opened is left out: helpers only save time.
 */
export function compileHelpers(ctx: GpuContext): Promise<GPUDevice[]> {
  let p = helpers.get(ctx);
  if (!p) {
    p = openHelpers(ctx, compileHelperCount(ctx));
    helpers.set(ctx, p);
  }
  return p;
}

async function openHelpers(ctx: GpuContext, count: number): Promise<GPUDevice[]> {
  const opened: GPUDevice[] = [];
  while (opened.length < count) {
    const device = await openSiblingDevice(ctx).catch(() => undefined);
    if (!device) break;
    opened.push(device);
  }
  return opened;
}

/** A program's kernels as compileAhead takes them, in dispatch order (`labels`: each kernel's, default its op's). */
export function aheadKernels(program: Program, labels?: readonly string[]): AheadKernel[] {
  return program.kernels.map((k, i) => ({
    code: k.source.code,
    label: labels?.[i] ?? k.label,
    storageBindings: bindingPlaces(k, program.plan).length,
    ...(k.source.uniforms?.length ? { uniform: k.source.uniforms } : {}),
  }));
}

/** Bytes of each placeholder storage buffer: any runtime-sized array binds to it. */
const PLACEHOLDER_BYTES = 256;

/** Codes already compiled ahead for a pipeline cache's device (a later program skips them). */
const done = new WeakMap<PipelineCache, Set<string>>();
/** Each helper's pipelines, kept: a later program's pipeline compiled there before is one dispatch again, not LLVM again. */
const helperPipelines = new WeakMap<GPUDevice, PipelineCache>();
const placeholders = new WeakMap<GPUDevice, GPUBuffer[]>();

/**
 * Compiles the distinct pipelines of `kernels` (in dispatch order) that `pipelines` has not
 * compiled ahead before: on the main device (`pipelines`' device) from the front, on each helper
 * from the back. A failure on the main device is a unetc bug and throws; a helper that fails
 * stops, leaving the rest to the main device.
 */
export async function compileAhead(pipelines: PipelineCache, helpers: readonly GPUDevice[], kernels: readonly AheadKernel[]): Promise<AheadReport> {
  const seen = done.get(pipelines) ?? new Set<string>();
  done.set(pipelines, seen);
  const queue: AheadKernel[] = [];
  for (const k of kernels) {
    if (seen.has(k.code)) continue;
    seen.add(k.code);
    queue.push(k);
  }
  const report: AheadReport = { main: 0, helpers: 0, devices: helpers.length };
  const mainWorker = async () => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      await dispatchOnce(pipelines.device, await pipelines.get(k.code, k.label), k, true);
      report.main++;
    }
  };
  const helperWorker = async (device: GPUDevice) => {
    let cache = helperPipelines.get(device);
    if (!cache) helperPipelines.set(device, (cache = new PipelineCache(device)));
    for (let k = queue.pop(); k; k = queue.pop()) {
      try {
        await dispatchOnce(device, await cache.get(k.code, k.label), k, false);
      } catch {
        queue.push(k); // the main device compiles it, and what is left
        return;
      }
      report.helpers++;
    }
  };
  await Promise.all([mainWorker(), ...helpers.map(helperWorker)]);
  await mainWorker(); // what a failing helper gave back after the main device had finished
  return report;
}

/** One workgroup of `pipeline` on placeholder buffers, waited for: the driver has compiled it then. */
async function dispatchOnce(device: GPUDevice, pipeline: GPUComputePipeline, k: AheadKernel, reportErrors: boolean): Promise<void> {
  let buffers = placeholders.get(device);
  if (!buffers) placeholders.set(device, (buffers = []));
  while (buffers.length < k.storageBindings) buffers.push(device.createBuffer({ size: PLACEHOLDER_BYTES, usage: GPUBufferUsage.STORAGE, label: `compile-ahead placeholder ${buffers.length}` }));
  if (reportErrors) device.pushErrorScope("validation");
  const entries: GPUBindGroupEntry[] = buffers.slice(0, k.storageBindings).map((buffer, binding) => ({ binding, resource: { buffer } }));
  let uniform: GPUBuffer | undefined;
  if (k.uniform?.length) {
    const words = new Uint32Array(Math.ceil(k.uniform.length / 4) * 4); // a uniform binding is a whole number of 16-byte rows
    words.set(k.uniform);
    uniform = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: "compile-ahead dims" });
    device.queue.writeBuffer(uniform, 0, words as unknown as GPUAllowSharedBufferSource);
    entries.push({ binding: k.storageBindings, resource: { buffer: uniform } });
  }
  const layout = pipeline.getBindGroupLayout(0);
  const bindGroup = device.createBindGroup({ layout, entries, label: `compile-ahead ${k.label}` });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(1);
  pass.end();
  const commands = encoder.finish();
  device.queue.submit([commands]);
  if (reportErrors) {
    const err = await device.popErrorScope();
    if (err) throw new Error(`internal error: compiling ${k.label} ahead: ${err.message}`);
  }
  // Dawn can free native objects whose wrappers are collected while the GPU uses them: held until done
  await settle(device.queue.onSubmittedWorkDone(), true);
  void [layout, bindGroup, encoder, pass, commands];
  uniform?.destroy();
}

// Runs a program embedded in a generated module (compiler/wgsl/program-data.ts) on any WebGPU
// device, a browser's or Dawn's in Node. The same contract as runtime/webgpu's GraphExecutor,
// over plain data: the buffers, one pipeline per distinct shader and one bind group per kernel
// are made once; a run encodes every dispatch into one command buffer; `read` copies an output
// back. Nothing here knows the graph or the op registry, so a page's bundle carries neither.
import type { ProgramData, RegionData, SourceData } from "../../compiler/wgsl/program-data.js";
import { PipelineCache } from "../webgpu/pipelines.js";
import { isSoftwareAdapter, settle } from "../webgpu/settle.js";
import { packUniforms } from "../webgpu/uniforms.js";

export class ProgramError extends Error {
  override readonly name = "ProgramError";
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;
// Typed arrays here are never shared; TypeScript types them over ArrayBufferLike, writeBuffer wants a plain source.
const source = (d: Float32Array | Int32Array | Uint32Array) => d as unknown as GPUAllowSharedBufferSource;

/** What the program needs of a device that `device` lacks, in words (none: it fits). */
export function missingLimits(device: GPUDevice, p: ProgramData): string[] {
  const have = device.limits;
  const needs: Array<[keyof GPUSupportedLimits & string, number]> = [
    ["maxStorageBuffersPerShaderStage", Math.max(0, ...p.kernels.map((k) => k.bindings.length))],
    ["maxStorageBufferBindingSize", Math.max(0, ...p.kernels.flatMap((k) => k.bindings.map((b) => b[2])))],
    ["maxBufferSize", Math.max(0, ...p.buffers)],
    ["maxComputeWorkgroupsPerDimension", Math.max(0, ...p.kernels.flatMap((k) => k.workgroups))],
  ];
  const out = needs.filter(([k, n]) => (have[k] as number) < n).map(([k, n]) => `${k} ${String(have[k])} < ${n}`);
  // Arena offsets were aligned for the planned alignment; a device that needs a coarser one cannot bind them.
  if (have.minStorageBufferOffsetAlignment > p.limits.minStorageBufferOffsetAlignment) out.push(`minStorageBufferOffsetAlignment ${have.minStorageBufferOffsetAlignment} > ${p.limits.minStorageBufferOffsetAlignment}`);
  return out;
}

export class ProgramRunner {
  private readonly failures: string[] = [];
  /** Wrappers of submitted work, held until it completes (Dawn's node binding may free them early otherwise). */
  private inFlight: object[] = [];

  private constructor(
    readonly device: GPUDevice,
    readonly program: ProgramData,
    private readonly buffers: readonly GPUBuffer[],
    private readonly dispatches: ReadonlyArray<{ pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; layout: GPUBindGroupLayout; workgroups: readonly [number, number, number] }>,
    private readonly sources: ReadonlyMap<string, SourceData>,
    /** The pipeline cache holds the shader modules, which Dawn's node binding may free while pipelines use them. */
    private readonly keepAlive: readonly object[],
  ) {
    device.addEventListener("uncapturederror", this.onError);
  }

  private readonly onError = (ev: Event): void => {
    this.failures.push(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
  };

  static async create(device: GPUDevice, program: ProgramData): Promise<ProgramRunner> {
    if (program.format !== "unetc-program/1") throw new ProgramError(`this runtime runs unetc-program/1 programs, not ${String(program.format)}: compile the model again with this unetc`);
    const missing = missingLimits(device, program);
    if (missing.length) throw new ProgramError(`the device is too small for this program (${missing.join("; ")}): request the adapter's limits in requestDevice, or compile for this device`);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffers = program.buffers.map((size, i) => device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage, label: `unetc buffer ${i}` }));
    const binding = (r: RegionData): GPUBufferBinding => ({ buffer: buffers[r[0]], offset: r[1], size: align4(r[2]) });

    for (const c of program.constants) {
      const n = "values" in c ? c.values.length : c.count;
      const data = c.dtype === "i32" ? new Int32Array(n) : new Float32Array(n);
      if ("values" in c) data.set(c.values);
      else data.fill(c.fill);
      device.queue.writeBuffer(buffers[c.region[0]], c.region[1], source(data));
    }

    const pipelines = new PipelineCache(device);
    const created = program.kernels.map((k) => pipelines.get(program.shaders[k.shader], k.label));
    for (const p of created) p.catch(() => undefined); // awaited in order below; this keeps a later failure handled
    const uniforms = packUniforms(device, program.kernels.map((k) => k.uniforms));
    const dispatches = [];
    for (const [i, k] of program.kernels.entries()) {
      const pipeline = await created[i];
      const entries: GPUBindGroupEntry[] = k.bindings.map((r, b) => ({ binding: b, resource: binding(r) }));
      const dims = uniforms.regions[i];
      if (dims) entries.push({ binding: entries.length, resource: dims });
      const layout = pipeline.getBindGroupLayout(0);
      dispatches.push({ pipeline, layout, bindGroup: device.createBindGroup({ layout, entries, label: k.label }), workgroups: k.workgroups });
    }
    const all = uniforms.buffer ? [...buffers, uniforms.buffer] : buffers;
    return new ProgramRunner(device, program, all, dispatches, new Map(program.sources.map((s) => [s.name, s])), [pipelines]);
  }

  /** The program's sources (parameters, buffers, inputs) by name. */
  source(name: string): SourceData | undefined {
    return this.sources.get(name);
  }

  /** Writes a source by name; its length must be the source's element count. */
  write(name: string, data: Float32Array | Int32Array): void {
    const s = this.sources.get(name);
    if (!s) throw new ProgramError(`the program has no input named '${name}'`);
    const count = s.shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new ProgramError(`'${name}' needs ${count} values ([${s.shape.join(", ")}]), got ${data.length}`);
    const typed = s.dtype === "i32" ? (data instanceof Int32Array ? data : Int32Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.device.queue.writeBuffer(this.buffers[s.region[0]], s.region[1], source(typed));
  }

  /** Every kernel in one command buffer, then the state copies. */
  run(): void {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
    for (const c of this.program.copies) encoder.copyBufferToBuffer(this.buffers[c.from[0]], c.from[1], this.buffers[c.to[0]], c.to[1], align4(c.from[2]));
    const commands = encoder.finish();
    this.device.queue.submit([commands]);
    this.inFlight.push(encoder, pass, commands);
  }

  /** Copies an output back to the host. */
  async read(name: string): Promise<Float32Array | Int32Array> {
    const out = this.program.outputs.find((o) => o.name === name);
    if (!out) throw new ProgramError(`the program has no output named '${name}'`);
    const [index, offset, bytes] = out.region;
    const size = align4(bytes);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.buffers[index], offset, staging, 0, size);
    const commands = encoder.finish();
    this.device.queue.submit([commands]);
    this.inFlight.push(encoder, commands, staging);
    await settle(staging.mapAsync(GPUMapMode.READ), isSoftwareAdapter(this.device.adapterInfo ?? {}));
    const count = out.shape.reduce((a, b) => a * b, 1);
    const copy = staging.getMappedRange().slice(0, count * 4);
    staging.unmap();
    staging.destroy();
    this.inFlight = [];
    if (this.failures.length) throw new ProgramError(this.failures.splice(0).join("\n"));
    return out.dtype === "i32" ? new Int32Array(copy) : new Float32Array(copy);
  }

  destroy(): void {
    this.device.removeEventListener("uncapturederror", this.onError);
    for (const b of this.buffers) b.destroy();
  }
}

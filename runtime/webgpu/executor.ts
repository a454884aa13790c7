// Runs a compiled program (compiler/compile.ts: kernels in order and the memory plan) on a
// WebGPU device. It creates what the program describes, once: the plan's buffers, one pipeline
// per distinct kernel, one bind group per dispatch; it never schedules or plans itself. A run
// encodes every dispatch into one command buffer, then copies each `new.X` output over its
// source X where a stack did not write it in place (program.ts stateCopies). No allocation and no
// readback happen inside a run; `read` copies a value back when asked. `runProfiled` is the
// same step with every dispatch timed on the GPU (profiler.ts), for `unetc profile`.
import type { Graph, SourceNode, ValueId } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { numel } from "../../compiler/ir/shape.js";
import { registry } from "../../compiler/ops/index.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { bindingPlaces, stateCopies, type MemoryPlan, type Placement, type Program } from "../../compiler/wgsl/program.js";
import { refContext } from "../reference/index.js";
import type { GpuContext } from "./device.js";
import { aheadKernels, compileAhead, compileHelpers, compilesAhead, type AheadReport } from "./compile-ahead.js";
import { PipelineCache } from "./pipelines.js";
import { settle } from "./settle.js";
import { KernelTimer } from "./profiler.js";
import { packUniforms } from "./uniforms.js";

interface Region {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

interface Dispatch {
  pipeline: GPUComputePipeline;
  /** Held only so the native layout outlives its bind group (see inFlight). */
  layout: GPUBindGroupLayout;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;
// TypeScript 5.9 types typed arrays over ArrayBufferLike; ours are never shared, which writeBuffer needs.
const bufferSource = (d: Float32Array | Int32Array) => d as unknown as GPUAllowSharedBufferSource;

export interface ExecutorStats {
  kernels: number;
  /** Graph ops the kernels compute (> kernels when elementwise chains are fused). */
  ops: number;
  pipelines: number;
  plan: MemoryPlan;
  persistentBytes: number;
  /** Where the pipelines were compiled before the first step (a software adapter's driver only). */
  ahead?: AheadReport;
}

export class GraphExecutor {
  private constructor(
    private readonly ctx: GpuContext,
    readonly graph: Graph,
    private readonly regions: Map<ValueId, Region>,
    private readonly sources: Map<string, SourceNode>,
    private readonly dispatches: Dispatch[],
    private readonly copies: Array<{ from: Region; to: Region }>,
    private readonly buffers: GPUBuffer[],
    readonly stats: ExecutorStats,
  ) {}

  /** Creates the program's buffers, pipelines and bind groups on the device. */
  static async create(ctx: GpuContext, program: Program, opts: { pipelines?: PipelineCache } = {}): Promise<GraphExecutor> {
    const { graph, kernels, plan } = program;
    const { device } = ctx;
    const pipelines = opts.pipelines ?? new PipelineCache(device);
    const buffers: GPUBuffer[] = [];
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const makeBuffer = (size: number, label: string) => {
      const b = device.createBuffer({ size: Math.max(16, align(size, 16)), usage, label });
      buffers.push(b);
      return b;
    };
    const slotBuffers = plan.slots.map((size, i) => makeBuffer(size, `slot ${i}`));
    const stateBuffers = plan.arenas.map((size, i) => makeBuffer(size, `state ${i}`));
    const regionOf = (p: Placement): Region => ({ buffer: (p.kind === "slot" ? slotBuffers : stateBuffers)[p.index], offset: p.offset, size: p.size });
    const regions = new Map<ValueId, Region>();
    for (const [id, p] of plan.placement) regions.set(id, regionOf(p));

    // Constants are computed once on the host and uploaded.
    const host = refContext("f32");
    for (const id of plan.constants) {
      const n = graph.nodes[id];
      if (isSource(n)) continue;
      const data = registry[n.op].reference([], n.params as never, n, host);
      const r = regions.get(n.id)!;
      const typed = n.dtype === "i32" ? Int32Array.from(data) : Float32Array.from(data);
      device.queue.writeBuffer(r.buffer, r.offset, bufferSource(typed));
    }

    // every pipeline is created (and, where the driver compiles then, compiled) before the first step
    const labels = kernels.map((k) => `${k.label} %${k.output}${graph.nodes[k.output].label ? ` (${graph.nodes[k.output].label})` : ""}`);
    const created = kernels.map((k, i) => pipelines.get(k.source.code, labels[i]));
    for (const p of created) p.catch(() => undefined); // awaited below, in order; this only keeps a later failure from going unhandled
    const uniforms = packUniforms(device, kernels.map((k) => k.source.uniforms));
    if (uniforms.buffer) buffers.push(uniforms.buffer);
    const dispatches: Dispatch[] = [];
    for (const [i, k] of kernels.entries()) {
      const kernel = k.source;
      const pipeline = await created[i];
      const entries: GPUBindGroupEntry[] = bindingPlaces(k, plan).map((p, binding) => {
        const r = regionOf(p);
        return { binding, resource: { buffer: r.buffer, offset: r.offset, size: align(r.size, 4) } };
      });
      const dims = uniforms.regions[i];
      if (dims) entries.push({ binding: entries.length, resource: dims });
      const layout = pipeline.getBindGroupLayout(0);
      const bindGroup = device.createBindGroup({ layout, entries, label: `${k.label} %${k.output}` });
      dispatches.push({ pipeline, layout, bindGroup, workgroups: kernel.workgroups });
    }

    // on a driver that compiles at first dispatch, every pipeline is compiled now, in parallel
    let ahead: AheadReport | undefined;
    if (compilesAhead(ctx)) {
      ahead = await compileAhead(pipelines, await compileHelpers(ctx), aheadKernels(program, labels));
    }

    const sources = new Map<string, SourceNode>();
    for (const n of graph.nodes) if (isSource(n)) sources.set(n.name, n);
    const copies = stateCopies(graph, plan).map((c) => ({ from: regionOf(c.from), to: regionOf(c.to) }));
    const fusedOps = kernels.reduce((a, k) => a + k.nodes.length, 0);
    return new GraphExecutor(ctx, graph, regions, sources, dispatches, copies, buffers, { kernels: dispatches.length, ops: fusedOps, pipelines: pipelines.size, plan, persistentBytes: plan.persistentBytes, ...(ahead ? { ahead } : {}) });
  }

  /** Writes a source (param, buffer, input or scalar) by name. */
  write(name: string, value: Tensor | number): void {
    const s = this.sources.get(name);
    if (!s) throw new Error(`the graph has no input named '${name}'`);
    const r = this.regions.get(s.id)!;
    const data =
      typeof value === "number"
        ? s.dtype === "i32"
          ? Int32Array.of(value)
          : Float32Array.of(value)
        : s.dtype === "i32"
          ? value.data instanceof Int32Array
            ? value.data
            : Int32Array.from(value.data)
          : value.data instanceof Float32Array
            ? value.data
            : Float32Array.from(value.data);
    if (data.length !== numel(s.shape)) throw new Error(`'${name}' needs ${numel(s.shape)} values, got ${data.length}`);
    this.ctx.device.queue.writeBuffer(r.buffer, r.offset, bufferSource(data));
  }

  /** Encodes the whole graph (and the state copies) into one command buffer and submits it. */
  run(): void {
    const encoder = this.ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const d of this.dispatches) encodeDispatch(pass, d);
    pass.end();
    this.encodeCopies(encoder);
    const commands = encoder.finish();
    this.ctx.device.queue.submit([commands]);
    this.inFlight.push(encoder, pass, commands);
  }

  private timer: KernelTimer | undefined;

  /**
   * The same step as run(), but each dispatch in its own compute pass with a timestamp before and
   * after (profiler.ts), read back once: each dispatch's GPU time in ms, in dispatch order. A
   * TimestampQueryError (a UserError) when the device cannot time.
   */
  async runProfiled(): Promise<number[]> {
    const timer = (this.timer ??= KernelTimer.create(this.ctx, this.dispatches.length));
    const encoder = this.ctx.device.createCommandEncoder();
    this.dispatches.forEach((d, i) => {
      const pass = encoder.beginComputePass(timer.pass(i));
      encodeDispatch(pass, d);
      pass.end();
      this.inFlight.push(pass);
    });
    this.encodeCopies(encoder);
    timer.resolve(encoder);
    const commands = encoder.finish();
    this.ctx.device.queue.submit([commands]);
    this.inFlight.push(encoder, commands);
    const ms = await timer.read();
    this.throwIfFailed();
    return ms;
  }

  private encodeCopies(encoder: GPUCommandEncoder): void {
    for (const c of this.copies) encoder.copyBufferToBuffer(c.from.buffer, c.from.offset, c.to.buffer, c.to.offset, align(c.from.size, 4));
  }

  /**
   * JS wrappers of submitted work (encoders, command buffers, staging buffers), held until the
   * work completes: Dawn's node binding can free the native objects when a wrapper is collected
   * while the GPU still uses them, which crashes the process.
   */
  private inFlight: object[] = [];

  /** Reads a graph output or a source back to the host. */
  async read(name: string): Promise<Tensor> {
    const out = this.graph.outputs.find((o) => o.name === name);
    const node = out ? this.graph.nodes[out.value] : this.sources.get(name);
    if (!node) throw new Error(`the graph has no output or input named '${name}'`);
    const r = this.regions.get(node.id)!;
    const size = align(r.size, 4);
    const staging = this.ctx.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(r.buffer, r.offset, staging, 0, size);
    const commands = encoder.finish();
    this.ctx.device.queue.submit([commands]);
    this.inFlight.push(encoder, commands, staging);
    await settle(staging.mapAsync(GPUMapMode.READ), this.ctx.adapterInfo.isSoftware);
    const bytes = staging.getMappedRange().slice(0, numel(node.shape) * 4);
    staging.unmap();
    staging.destroy();
    this.throwIfFailed();
    const data = node.dtype === "i32" ? new Int32Array(bytes) : new Float32Array(bytes);
    return { shape: [...node.shape], data };
  }

  /** Waits for submitted work; reports device errors that arrived meanwhile. */
  async sync(): Promise<void> {
    await settle(this.ctx.device.queue.onSubmittedWorkDone(), this.ctx.adapterInfo.isSoftware);
    this.inFlight = [];
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.ctx.failures.length) throw new Error(this.ctx.failures.splice(0).join("\n"));
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.timer?.destroy();
  }
}

function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
}

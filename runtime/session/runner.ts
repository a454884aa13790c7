// One interface over the two ways to execute a compiled model: the reference interpreter (the
// oracle) and the WebGPU executor. A run consumes the current sources and, as the training step's
// contract says, feeds every `new.X` output back as source X for the next run. `openRunner` is
// the one place a device is chosen: it compiles for that device and opens a runner on it.
import { compile, type Compiled, type CompileOptions, type Program, type Target, type TileTable } from "../../compiler/compile.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { Graph } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { replacedSource } from "../../compiler/ir/step-contract.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { runGraph, type Feed } from "../reference/index.js";
import { acquireDevice, deviceTarget, type GpuContext } from "../webgpu/device.js";
import { GraphExecutor } from "../webgpu/executor.js";

export type DeviceKind = "reference" | "webgpu";

export interface GraphRunner {
  readonly device: DeviceKind;
  write(name: string, value: Tensor | number): void;
  run(): void;
  read(name: string): Promise<Tensor>;
  destroy(): void;
}

export class ReferenceRunner implements GraphRunner {
  readonly device = "reference";
  private readonly feeds = new Map<string, Feed>();
  private outputs: Record<string, Tensor> = {};
  private readonly sourceNames: Set<string>;

  constructor(readonly graph: Graph) {
    this.sourceNames = new Set(graph.nodes.filter(isSource).map((n) => n.name));
  }

  write(name: string, value: Tensor | number): void {
    if (!this.sourceNames.has(name)) throw new Error(`the graph has no input named '${name}'`);
    this.feeds.set(name, value);
  }

  run(): void {
    this.outputs = runGraph(this.graph, this.feeds).outputs;
    for (const [name, t] of Object.entries(this.outputs)) {
      const source = replacedSource(name);
      if (source !== undefined && this.sourceNames.has(source)) this.feeds.set(source, t);
    }
  }

  async read(name: string): Promise<Tensor> {
    const v = this.outputs[name] ?? this.feeds.get(name);
    if (v === undefined) throw new Error(`no output or input named '${name}'`);
    return typeof v === "number" ? { shape: [], data: Float32Array.of(v) } : v;
  }

  destroy(): void {}
}

export class WebGpuRunner implements GraphRunner {
  readonly device = "webgpu";
  private constructor(readonly executor: GraphExecutor) {}

  static async create(ctx: GpuContext, program: Program): Promise<WebGpuRunner> {
    return new WebGpuRunner(await GraphExecutor.create(ctx, program));
  }

  write(name: string, value: Tensor | number): void {
    this.executor.write(name, value);
  }

  run(): void {
    this.executor.run();
  }

  read(name: string): Promise<Tensor> {
    return this.executor.read(name);
  }

  destroy(): void {
    this.executor.destroy();
  }
}

/** The interpreter has no binding limits: its plan is unbounded, so a CPU run never fails a GPU limit. */
const REFERENCE_TARGET: Target = { limits: { maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER, maxBufferSize: Number.MAX_SAFE_INTEGER } };

/** Where programs are compiled for and run: the one place a device kind becomes a device. */
export interface Device {
  readonly kind: DeviceKind;
  /** What compile() shapes kernels and the memory plan by. */
  readonly target: Target;
  readonly gpu?: GpuContext;
}

export async function openDevice(kind: DeviceKind): Promise<Device> {
  if (kind === "reference") return { kind, target: REFERENCE_TARGET };
  const gpu = await acquireDevice();
  return { kind, target: deviceTarget(gpu), gpu };
}

/** A runner for a program compiled for `device`'s target. */
export async function createRunner(device: Device, program: Program): Promise<GraphRunner> {
  return device.gpu ? WebGpuRunner.create(device.gpu, program) : new ReferenceRunner(program.graph);
}

export interface OpenRunner {
  readonly compiled: Compiled;
  readonly runner: GraphRunner;
  /** The WebGPU device, when the runner is on one. */
  readonly gpu?: GpuContext;
}

/**
 * Compiles `model` for a device of this kind and opens a runner on the result. `tiles`, where
 * given, replaces the device's tuned GEMM tiles (a tuning run's candidates; {} for the defaults).
 */
export async function openRunner(model: ModelGraph, o: Omit<CompileOptions, keyof Target> & { readonly tiles?: TileTable }, kind: DeviceKind): Promise<OpenRunner> {
  const device = await openDevice(kind);
  const { tiles, ...options } = o;
  const compiled = compile(model, { ...options, ...device.target, ...(tiles ? { tiles } : {}) });
  return { compiled, runner: await createRunner(device, compiled), gpu: device.gpu };
}

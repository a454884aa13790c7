// One interface over the two ways to execute a compiled graph: the reference interpreter (the
// oracle) and the WebGPU executor. A run consumes the current sources and, as the training step's
// contract says, feeds every `new.X` output back as source X for the next run.
import type { Graph } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { runGraph, type Feed } from "../reference/index.js";
import type { GpuContext } from "../webgpu/device.js";
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
      if (name.startsWith("new.") && this.sourceNames.has(name.slice(4))) this.feeds.set(name.slice(4), t);
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

  static async create(ctx: GpuContext, graph: Graph): Promise<WebGpuRunner> {
    return new WebGpuRunner(await GraphExecutor.compile(ctx, graph));
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

// GPU time per dispatch from timestamp queries: the executor's profiled run gives every dispatch
// its own compute pass whose beginning and end write a timestamp; the queries are resolved into
// one buffer and read back once per run. Only a profiled run pays for this: the normal run stays
// one pass without queries.
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { GpuContext } from "./device.js";
import { settle } from "./settle.js";

export const TIMESTAMP_FEATURE = "timestamp-query";

export class TimestampQueryError extends UserError {
  constructor(adapter: string) {
    super(`the adapter (${adapter}) has no '${TIMESTAMP_FEATURE}' feature, so kernels cannot be timed on it; the static report above needs no timing`);
  }
}

export const hasTimestamps = (ctx: GpuContext): boolean => ctx.features.has(TIMESTAMP_FEATURE);

/** The WebGPU spec's largest query set; two queries per dispatch. */
const MAX_QUERIES = 4096;
const PER_SET = MAX_QUERIES / 2;

export class KernelTimer {
  private constructor(
    private readonly sets: GPUQuerySet[],
    private readonly resolveBuffers: GPUBuffer[],
    private readonly readBuffer: GPUBuffer,
    readonly dispatches: number,
    /** The adapter computes on the CPU: wait for the read back without polling (settle.ts). */
    private readonly software: boolean,
  ) {}

  /** Query sets for `dispatches` timed passes; a TimestampQueryError when the device cannot time. */
  static create(ctx: GpuContext, dispatches: number): KernelTimer {
    if (!hasTimestamps(ctx)) throw new TimestampQueryError(ctx.adapterInfo.description || ctx.adapterInfo.vendor);
    const { device } = ctx;
    const sets: GPUQuerySet[] = [];
    const resolveBuffers: GPUBuffer[] = [];
    for (let first = 0; first < dispatches; first += PER_SET) {
      const count = 2 * Math.min(PER_SET, dispatches - first);
      sets.push(device.createQuerySet({ type: "timestamp", count, label: `timestamps ${first}` }));
      resolveBuffers.push(device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }));
    }
    const readBuffer = device.createBuffer({ size: Math.max(16, dispatches * 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    return new KernelTimer(sets, resolveBuffers, readBuffer, dispatches, ctx.adapterInfo.isSoftware);
  }

  /** The descriptor of dispatch i's compute pass: a timestamp at its start and at its end. */
  pass(i: number): GPUComputePassDescriptor {
    const at = 2 * (i % PER_SET);
    return { timestampWrites: { querySet: this.sets[Math.floor(i / PER_SET)], beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } };
  }

  /** Resolves every query and copies them to the readback buffer (after the passes, same encoder). */
  resolve(encoder: GPUCommandEncoder): void {
    this.sets.forEach((set, s) => {
      encoder.resolveQuerySet(set, 0, set.count, this.resolveBuffers[s], 0);
      encoder.copyBufferToBuffer(this.resolveBuffers[s], 0, this.readBuffer, s * PER_SET * 16, set.count * 8);
    });
  }

  /** Each dispatch's GPU time in milliseconds, once the resolved run has completed. */
  async read(): Promise<number[]> {
    await settle(this.readBuffer.mapAsync(GPUMapMode.READ), this.software);
    const ns = new BigUint64Array(this.readBuffer.getMappedRange().slice(0, this.dispatches * 16));
    this.readBuffer.unmap();
    // Timestamps are nanoseconds; an end before its start (allowed by the spec) reads as 0.
    return Array.from({ length: this.dispatches }, (_, i) => (ns[2 * i + 1] > ns[2 * i] ? Number(ns[2 * i + 1] - ns[2 * i]) / 1e6 : 0));
  }

  destroy(): void {
    for (const s of this.sets) s.destroy();
    for (const b of [...this.resolveBuffers, this.readBuffer]) b.destroy();
  }
}

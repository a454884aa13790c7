// Acquires a WebGPU device through Dawn's node binding (`webgpu` on npm): prints what it got,
// requests the adapter's real limits and the features unetc can use, and turns every failure
// into a DeviceError that says what is missing and how to fix it.
import { existsSync, mkdirSync } from "node:fs";
import type { DeviceLimits } from "../../compiler/wgsl/program.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { KernelLimits } from "../../compiler/wgsl/kernel.js";
import type { TileTable } from "../../compiler/wgsl/tiles.js";
import { isSoftwareAdapter } from "./settle.js";
import { loadTiles } from "./tile-cache.js";

export class DeviceError extends UserError {}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterSummary;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  /** Set when the device is lost or an uncaptured error arrives; checked after each submit. */
  readonly failures: string[];
  /**
   * The instance and adapter the device came from. Dawn's node binding tears down native state
   * when their JS wrappers are garbage collected, so the context keeps them alive.
   */
  readonly keepAlive: readonly object[];
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  isSoftware: boolean;
  /** Smallest subgroup size, 0 where the device lacks the subgroups feature. */
  subgroupMinSize: number;
}

/** Features used when present: f16 arithmetic, subgroup ops, GPU timestamps for profiling. */
const WANTED_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

/** Limits that decide how kernels and the memory plan are shaped. */
const WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
  "minStorageBufferOffsetAlignment",
] as const;

const INSTALL_HINT =
  "unetc runs on WebGPU through Dawn, which needs a Vulkan driver on Linux. Without a GPU, install Mesa's " +
  "software driver (lavapipe) from bookworm-backports: `bash scripts/setup-vulkan.sh` (it runs " +
  "`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`); Debian 12's own Mesa 22 is too old for Dawn. " +
  "With an NVIDIA GPU, point VK_DRIVER_FILES at its ICD (e.g. /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json).";

let cached: Promise<GpuContext> | undefined;

/** The process's one device (pipelines and buffers are created per compiled graph on it). */
export function acquireDevice(): Promise<GpuContext> {
  cached ??= createDevice();
  return cached;
}

async function createDevice(): Promise<GpuContext> {
  // Dawn's Vulkan loader warns without it; an empty private folder is enough.
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = `/tmp/unetc-xdg-${process.getuid?.() ?? 0}`;
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  let gpu: GPU;
  try {
    const webgpu = (await import("webgpu")) as { create: (opts: string[]) => GPU; globals: object };
    Object.assign(globalThis, webgpu.globals);
    // Dawn rounds timestamps to 65.5 us by default (a browser's timing-attack guard); a profiler needs them exact.
    gpu = webgpu.create(["disable-dawn-features=timestamp_quantization"]);
  } catch (err) {
    throw new DeviceError(`cannot load Dawn's WebGPU binding (${(err as Error).message}). ${INSTALL_HINT}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new DeviceError(`no WebGPU adapter found. ${INSTALL_HINT}`);
  const { device, features } = await requestWanted(adapter);
  const failures: string[] = [];
  device.addEventListener("uncapturederror", (ev) => failures.push(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`));
  void device.lost.then((info) => {
    if (info.reason !== "destroyed") failures.push(`the GPU device was lost (${info.reason}): ${info.message}`);
  });
  const info = adapter.info;
  const summary: AdapterSummary = {
    ...adapterNames(info),
    backend: "vulkan",
    isSoftware: isSoftwareAdapter(info),
    subgroupMinSize: features.includes("subgroups") ? ((info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 0) : 0,
  };
  return { device, adapterInfo: summary, limits: device.limits, features: new Set(features), failures, keepAlive: [gpu, adapter] };
}

/** A device of `adapter` with the features unetc uses and the adapter's real limits. */
async function requestWanted(adapter: GPUAdapter): Promise<{ device: GPUDevice; features: GPUFeatureName[] }> {
  const features = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  // Alignment limits are minimums: the adapter's value is kept (a request may not go lower).
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k] as number;
  return { device: await adapter.requestDevice({ requiredFeatures: features, requiredLimits }), features };
}

const keptAdapters: GPUAdapter[] = [];

/** An adapter's names as its AdapterSummary holds them (an unnamed vendor or architecture "unknown"). */
function adapterNames(info: GPUAdapterInfo): Pick<AdapterSummary, "vendor" | "architecture" | "device" | "description"> {
  return { vendor: info.vendor || "unknown", architecture: info.architecture || "unknown", device: info.device || "", description: info.description || "" };
}

const sameAdapter = (info: GPUAdapterInfo, a: AdapterSummary) => {
  const names = adapterNames(info);
  return names.vendor === a.vendor && names.architecture === a.architecture && names.device === a.device && names.description === a.description;
};

/**
 * Another device of `ctx`'s driver, with the same features and limits, from an adapter of its
 * own (Dawn lets an adapter make one device); undefined where the instance gives another
 * adapter or none. Its uncaptured errors are dropped: it never runs the program.
 */
export async function openSiblingDevice(ctx: GpuContext): Promise<GPUDevice | undefined> {
  const adapter = await (ctx.keepAlive[0] as GPU).requestAdapter({ powerPreference: "high-performance" });
  if (!adapter || !sameAdapter(adapter.info, ctx.adapterInfo)) return undefined;
  const { device } = await requestWanted(adapter);
  keptAdapters.push(adapter); // see GpuContext.keepAlive
  device.addEventListener("uncapturederror", (ev) => ev.preventDefault());
  return device;
}

export function describeAdapter(ctx: GpuContext): string {
  const a = ctx.adapterInfo;
  const l = ctx.limits;
  const name = [a.vendor, a.architecture, a.device, a.description].filter((s) => s && s !== "unknown").join(" / ");
  return [
    `adapter: ${name || "unknown"}${a.isSoftware ? " (software)" : ""}, backend ${a.backend}`,
    `features: ${[...ctx.features].join(", ") || "none"}`,
    `limits: storage binding ${(l.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, buffer ${(l.maxBufferSize / 2 ** 20).toFixed(0)} MiB, ` +
      `${l.maxStorageBuffersPerShaderStage} storage buffers/stage, ${l.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ` +
      `${l.maxComputeWorkgroupStorageSize} B workgroup memory, offset alignment ${l.minStorageBufferOffsetAlignment}`,
  ].join("\n");
}

const tuned = new WeakMap<GpuContext, TileTable>();

/** The adapter's tuned GEMM tiles from the tile cache (read once per device; its warnings once, on stderr). */
export function tunedTiles(ctx: GpuContext): TileTable {
  let table = tuned.get(ctx);
  if (!table) {
    const limits: KernelLimits = { maxWorkgroupsPerDimension: ctx.limits.maxComputeWorkgroupsPerDimension, hardware: !ctx.adapterInfo.isSoftware, subgroupMinSize: ctx.adapterInfo.subgroupMinSize };
    const loaded = loadTiles(ctx.adapterInfo, limits);
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    table = loaded.table;
    tuned.set(ctx, table);
  }
  return table;
}

/** Reads the tile cache again at the next compile (after a tuning run wrote it). */
export function forgetTunedTiles(ctx: GpuContext): void {
  tuned.delete(ctx);
}

/**
 * What compile() needs of this device: its limits (read one by one: Dawn's are getters), whether
 * it is hardware, its subgroups, and the GEMM tiles tuned on it (`tiles: false` leaves them out:
 * the defaults, as a tuning run's baseline).
 */
export function deviceTarget(ctx: GpuContext, o: { tiles?: boolean } = {}): { limits: DeviceLimits; hardware: boolean; subgroupMinSize: number; tiles?: TileTable } {
  const l = ctx.limits;
  const limits: DeviceLimits = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
  };
  const tiles = o.tiles === false ? {} : tunedTiles(ctx);
  return { limits, hardware: !ctx.adapterInfo.isSoftware, subgroupMinSize: ctx.adapterInfo.subgroupMinSize, ...(Object.keys(tiles).length ? { tiles } : {}) };
}

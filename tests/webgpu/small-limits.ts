// A view of the test device that reports a small maxComputeWorkgroupsPerDimension, so kernels
// fold their dispatch into 2-D on small tensors: at the real limit (65535) that would take
// more than 4M elements per elementwise op, which is slow on lavapipe. The device itself is
// unchanged; only the limit the templates see is.
import type { GpuContext } from "../../runtime/webgpu/device.js";

export function withWorkgroupLimit(ctx: GpuContext, maxWorkgroupsPerDimension: number): GpuContext {
  const limits: Record<string, unknown> = {};
  for (const k in ctx.limits) limits[k] = ctx.limits[k as keyof GPUSupportedLimits];
  limits.maxComputeWorkgroupsPerDimension = maxWorkgroupsPerDimension;
  return { ...ctx, limits: limits as unknown as GPUSupportedLimits };
}

/**
 * A view of the test device that calls itself hardware, so templates pick their GPU layouts
 * (workgroup trees) on lavapipe too and both layouts are checked on every adapter.
 */
export function asHardware(ctx: GpuContext): GpuContext {
  return { ...ctx, adapterInfo: { ...ctx.adapterInfo, isSoftware: false } };
}

/**
 * A view of the test device without subgroups, so templates that broadcast with subgroup
 * operations where the adapter has them are checked in their plain form too.
 */
export function withoutSubgroups(ctx: GpuContext): GpuContext {
  return { ...ctx, adapterInfo: { ...ctx.adapterInfo, subgroupMinSize: 0 } };
}

// Building blocks for WGSL kernel templates: storage declarations in the binding convention of
// kernel.ts, a 1-D dispatch that stays under maxComputeWorkgroupsPerDimension by folding the
// grid into 2-D, and straight-line index arithmetic for static shapes.
import type { Shape, ValueType } from "../graph/types.js";
import type { KernelLimits } from "./kernel.js";

export const WG = 64;

const scalarType = (t: ValueType) => (t.dtype === "i32" ? "i32" : "f32");

/** `@binding(i) var<storage, read> in{i}` for each input and `out` as the last binding. */
export function bindings(inputs: readonly ValueType[], out: ValueType): string {
  const lines = inputs.map((t, i) => `@group(0) @binding(${i}) var<storage, read> in${i}: array<${scalarType(t)}>;`);
  lines.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${scalarType(out)}>;`);
  return lines.join("\n");
}

/** Workgroups for `n` invocations of `wg` threads, as [x, y, 1] with x within the device limit. */
export function grid(n: number, limits: KernelLimits, wg = WG): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  const x = Math.min(groups, limits.maxWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x), 1];
}

/** The kernel header for a flat loop: defines `i`, the element index, and returns past `n`. */
export function flatMain(n: number, wg = WG): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${wg}u + lid;
  if (i >= ${n}u) { return; }`;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** Strides of `shape` read through broadcasting to `outShape` (0 on broadcast axes). */
export function broadcastStridesTo(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((d, k) => (k < lead || shape[k - lead] === 1 ? 0 : own[k - lead]));
}

/**
 * WGSL statements that turn the flat output index `i` into offsets `names[j]` of arrays read
 * with `strides[j]` (per output axis). Axes of size 1 and zero strides cost nothing.
 */
export function offsetsFromIndex(outShape: Shape, strides: number[][], names: string[]): string {
  const lines = names.map((n) => `  var ${n} = 0u;`);
  lines.push("  var rem = i;");
  for (let k = outShape.length - 1; k >= 0; k--) {
    const d = outShape[k];
    if (d === 1) continue;
    const used = names.map((_, j) => strides[j][k] !== 0);
    if (!used.some(Boolean)) {
      lines.push(`  rem = rem / ${d}u;`);
      continue;
    }
    lines.push(`  { let c = rem % ${d}u; rem = rem / ${d}u;${names.map((n, j) => (used[j] ? ` ${n} += c * ${strides[j][k]}u;` : "")).join("")} }`);
  }
  return lines.join("\n");
}

/** A WGSL float literal that round-trips (1 -> 1.0, 1e-5 -> 1e-05 style is fine in WGSL). */
export function f32Literal(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} as a WGSL literal`);
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

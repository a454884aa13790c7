// Building blocks for WGSL kernel templates: storage declarations in the binding convention of
// kernel.ts, a 1-D dispatch that stays under maxComputeWorkgroupsPerDimension by folding the
// grid into 2-D, and straight-line index arithmetic for static shapes.
import type { Shape, ValueType } from "../ir/types.js";
import { numel } from "../ir/shape.js";
import type { KernelLimits, KernelSource } from "./kernel.js";
import { Dims } from "./dims.js";

export const WG = 64;

const scalarType = (t: ValueType) => (t.dtype === "i32" ? "i32" : "f32");

/** `@binding(i) var<storage, read> in{i}` for each input, then `out`, then `out1`, `out2`... for extra outputs. */
export function bindings(inputs: readonly ValueType[], out: ValueType, extraOuts: readonly ValueType[] = []): string {
  const lines = inputs.map((t, i) => `@group(0) @binding(${i}) var<storage, read> in${i}: array<${scalarType(t)}>;`);
  lines.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${scalarType(out)}>;`);
  extraOuts.forEach((t, j) => lines.push(`@group(0) @binding(${inputs.length + 1 + j}) var<storage, read_write> out${j + 1}: array<${scalarType(t)}>;`));
  return lines.join("\n");
}

/** Workgroups for `n` invocations of `wg` threads, as [x, y, 1] with x within the device limit. */
export function grid(n: number, limits: KernelLimits, wg = WG): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  const x = Math.min(groups, limits.maxWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x), 1];
}

/**
 * Elements per invocation of a flat kernel on a software adapter. lavapipe runs a workgroup as
 * one task on a CPU thread, with the invocations as SIMD lanes, and each task costs about a
 * microsecond: at one element per invocation a 64-thread workgroup spends longer starting than
 * computing (an 8M-element multiply ran at 1.1 GB/s). A GPU keeps one element per invocation.
 */
export const FLAT_ELEMENTS_CPU = 16;

/** Elements per invocation of a flat kernel on this adapter. */
export const flatElements = (limits: KernelLimits) => (limits.hardware ? 1 : FLAT_ELEMENTS_CPU);

/**
 * A flat loop's shader entry around `body` (statements that use `i`, the element index): one
 * element per invocation on a GPU; on a software adapter each invocation takes `flatElements`
 * elements a workgroup apart, so neighbouring lanes read neighbouring elements. `n` is the
 * element count, or a WGSL expression of it (`arrayLength(&out)`); `e` overrides the elements
 * per invocation (1 where each element is a long loop of its own, a reduction's output).
 */
export function flatEntry(n: number | string, body: string, limits: KernelLimits, e = flatElements(limits), wg = WG): string {
  const bound = typeof n === "number" ? `${n}u` : n;
  const head = `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;
  if (e === 1) {
    return `${head}
  let i = (wid.x + wid.y * nwg.x) * ${wg}u + lid;
  if (i >= ${bound}) { return; }
${body}
}`;
  }
  return `${head}
  let first = (wid.x + wid.y * nwg.x) * ${wg * e}u + lid;
  for (var e = 0u; e < ${opaqueBound(e)}; e++) {
    let i = first + e * ${wg}u;
    if (i >= ${bound}) { return; }
${body.replace(/^(?=.)/gm, "  ")}
  }
}`;
}

/** Workgroups of a flat loop over `n` elements (flatEntry). */
export function flatGrid(n: number, limits: KernelLimits, e = flatElements(limits), wg = WG): [number, number, number] {
  return grid(Math.ceil(n / e), limits, wg);
}

/**
 * A kernel of a flat loop over `n` elements (flatEntry, flatGrid): the bindings, optional
 * `decls` (helper functions), then `body`, statements that may use `i`. `elements` per
 * invocation as in flatEntry. With `dims` (the sizes the body reads from the uniform, dims.ts)
 * the element count is one of them too, so kernels that differ only in shape share a pipeline.
 */
export function flatKernel(
  inputs: readonly ValueType[],
  out: ValueType,
  n: number,
  body: string,
  limits: KernelLimits,
  opts: { decls?: string; elements?: number; dims?: Dims } = {},
): KernelSource {
  const e = opts.elements ?? flatElements(limits);
  const { dims } = opts;
  const bound = dims ? dims.u("n", n) : n;
  const decls = [dims?.declare(inputs.length + 1), opts.decls].filter(Boolean).join("\n");
  return {
    code: `${bindings(inputs, out)}
${decls ? `${decls}\n` : ""}${flatEntry(bound, body, limits, e)}`,
    workgroups: flatGrid(n, limits, e),
    ...(dims && !dims.empty ? { uniforms: dims.words() } : {}),
  };
}

/**
 * Flat kernels of at least this many elements bake their sizes in as constants (dims.ts): a
 * shift or multiply by a literal costs less per element than one by a uniform (bench/flat-
 * decode.ts: 1.1-1.3x with powers of two, 3-5x otherwise), which pays on the large tensors
 * that hold most of a step's elementwise time, while the many small kernels of other shapes
 * share pipelines (each costs ~25 ms of LLVM at its first dispatch on lavapipe).
 */
export const FLAT_BAKE_MIN = 2 ** 20;

/** The Dims for a flat kernel over `n` elements: uniforms below FLAT_BAKE_MIN, else baked. */
export const flatDims = (n: number) => new Dims(n >= FLAT_BAKE_MIN);

/**
 * WGSL statements that turn the flat output index `i` into offsets `names[j]` of arrays read
 * with `strides[j]` (per output axis). Axes of size 1 and zero strides cost nothing. With
 * `dims`, sizes and strides are read from the uniform (fields d<axis> and <name>_<axis>), so
 * the code depends only on which axes exist and which arrays walk them.
 */
export function offsetsFromIndex(outShape: Shape, strides: number[][], names: string[], dims?: Dims): string {
  const lines = names.map((n) => `  var ${n} = 0u;`);
  lines.push("  var rem = i;");
  let bound = numel(outShape);
  for (let k = outShape.length - 1; k >= 0; k--) {
    const d = outShape[k];
    if (d === 1) continue;
    // nothing outside this axis adds an offset: the rest of the decode is dead
    if (!strides.some((st) => st.slice(0, k + 1).some((x, a) => x !== 0 && outShape[a] !== 1))) break;
    const used = names.map((_, j) => strides[j][k] !== 0);
    const offset = (j: number) => (dims ? dims.mul("c", `${names[j]}_${k}`, strides[j][k]) : `c * ${strides[j][k]}u`);
    const quotient = dims ? dims.div("rem", `d${k}`, d, bound) : `rem / ${d}u`;
    const remainder = dims ? dims.mod("rem", `d${k}`, d, bound, "q") : `rem % ${d}u`;
    lines.push(used.some(Boolean) ? `  { let q = ${quotient}; let c = ${remainder}; rem = q;${names.map((n, j) => (used[j] ? ` ${n} += ${offset(j)};` : "")).join("")} }` : `  rem = ${quotient};`);
    bound = Math.ceil(bound / d);
  }
  return lines.join("\n");
}

/** A WGSL float literal that round-trips (1 -> 1.0, 1e-5 -> 1e-05 style is fine in WGSL). */
export function f32Literal(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} as a WGSL literal`);
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** The zero of a value's element type, as a WGSL literal. */
export function zeroOf(t: ValueType): string {
  return t.dtype === "i32" ? "0i" : "0.0";
}

/**
 * A copy kernel for the movement ops: out[i] = in0[base + sum_k c_k * strides[k]], where c is
 * the row-major coordinate of i in `out`'s shape (strides are in elements of `x`, 0 to repeat).
 */
export function stridedCopy(x: ValueType, out: ValueType, strides: number[], base: number, limits: KernelLimits): KernelSource {
  const n = numel(out.shape);
  const dims = flatDims(n);
  return flatKernel([x], out, n, `${offsetsFromIndex(out.shape, [strides], ["ia"], dims)}
  out[i] = in0[${dims.u("base", base)} + ia];`, limits, { dims });
}

/**
 * Reductions (a reduce op's output element, a softmax row) at least this long get a workgroup
 * and a tree in shared memory; shorter ones loop in one invocation, which also compiles much
 * faster on lavapipe (barriers become coroutines there).
 */
export const WORKGROUP_REDUCTION_MIN = 64;

/**
 * Threads of a workgroup that reduces `count` elements in shared memory: a power of two in
 * [32, 256] and no more than `count` where that allows, so most threads have work.
 */
export function reductionThreads(count: number): number {
  let wg = 32;
  while (wg < 256 && wg * 2 <= count) wg *= 2;
  return wg;
}

/**
 * The kernel header for one workgroup of `wg` threads per item (a row, an output element):
 * defines `i`, the item, and `lid`, the thread. The early return depends on the workgroup
 * only, so the whole workgroup takes it and later barriers stay in uniform control flow.
 */
export function workgroupMain(items: number, wg: number): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= ${items}u) { return; }`;
}

/**
 * Statements that fold `arr[0..wg)` (a `var<workgroup>` array the threads have just written)
 * into `arr[0]` with `combine`, halving the active threads each round; every thread may read
 * `arr[0]` afterwards. `wg` is a power of two. Needs `lid` and `nwg` (workgroupMain).
 */
export function treeReduce(arr: string, wg: number, combine: (a: string, b: string) => string): string {
  return `  workgroupBarrier();
  for (var s = ${opaqueBound(wg >> 1)}; s > 0u; s = s >> 1u) {
    if (lid < s) { ${arr}[lid] = ${combine(`${arr}[lid]`, `${arr}[lid + s]`)}; }
    workgroupBarrier();
  }`;
}

/**
 * The loop bound `n`, hidden from the shader compiler: nwg.z is 1 in every dispatch of grid(),
 * but only known at run time. LLVM (lavapipe's JIT) fully unrolls loops of constant trip count,
 * and its compile time then grows with the unrolled body: a softmax over rows of 30 took 7 s
 * of CPU to compile with a literal bound and 0.13 s with this one (a shared-memory tree of 256
 * threads: 1.2 s and 0.35 s). GPU drivers lose little.
 * Needs `nwg` in scope (flatEntry and workgroupMain declare it).
 */
export function opaqueBound(n: number): string {
  return `${n}u * nwg.z`;
}

/**
 * `values[index]` for a uniform u32 expression `index`, as a balanced tree of selects on its
 * bits (values past the end repeat the last). A loop that reads a tile of registers this way
 * compiles to plain vector selects; the same loop over a private array indexed by `index` puts
 * the registers in scratch memory, which lavapipe's LLVM compiles far more slowly.
 */
export function selectByIndex(values: readonly string[], index: string): string {
  if (values.length === 0) throw new Error("internal error: selectByIndex of no values");
  const pick = (lo: number, bit: number): string => {
    if (bit < 0) return values[Math.min(lo, values.length - 1)];
    const hi = lo + 2 ** bit;
    return hi >= values.length ? pick(lo, bit - 1) : `select(${pick(lo, bit - 1)}, ${pick(hi, bit - 1)}, (${index} & ${2 ** bit}u) != 0u)`;
  };
  return pick(0, Math.ceil(Math.log2(values.length)) - 1);
}

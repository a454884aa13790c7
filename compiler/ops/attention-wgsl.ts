// The WGSL of the fused attention ops (compiler/ops/attention.ts has what they compute and
// why), and the geometry both files read: each invocation owns query rows (key rows in the
// backward) and streams the other side's rows; on a software adapter the streamed rows reach the
// lanes by subgroup broadcast, and each lane owns several rows.

import type { ValueType } from "../ir/types.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import { Dims } from "../wgsl/dims.js";
import { bindings, f32Literal, flatDims, flatKernel, grid, selectByIndex } from "../wgsl/wgsl.js";
import { check } from "./def.js";

/** Sizes of an attention over qkv [N, S, 3C]. */
export interface Geometry {
  readonly n: number;
  readonly s: number;
  readonly heads: number;
  /** Channels per head. */
  readonly d: number;
  readonly scale: number;
}

export function geometry(op: string, qkv: { readonly shape: readonly number[] }, heads: number): Geometry {
  check(op, qkv.shape.length === 3, () => `qkv must have rank 3 [N, S, 3C], got [${qkv.shape.join(", ")}]`);
  const [n, s, c3] = qkv.shape;
  check(op, Number.isInteger(heads) && heads >= 1, () => `heads must be a positive integer, got ${heads}`);
  check(op, c3 % (3 * heads) === 0, () => `qkv's last axis ${c3} is not 3 * heads (${heads}) * head size`);
  const d = c3 / (3 * heads);
  return { n, s, heads, d, scale: 1 / Math.sqrt(d) };
}

/** out (and g) [N, S, C] for qkv [N, S, 3C]. */
export function outType(g: Geometry): ValueType {
  return { shape: [g.n, g.s, g.heads * g.d], dtype: "f32" };
}

/** lse [N, heads, S]: per query row, the logsumexp of its scaled scores. */
export const lseShape = (g: Geometry): number[] => [g.n, g.heads, g.s];

/** stats [N, heads, S, 2]: per query row, the logsumexp and g . out. */
export const statsShape = (g: Geometry): number[] => [g.n, g.heads, g.s, 2];

// ---- WGSL -------------------------------------------------------------------------------------

/** Invocations per workgroup: one SIMD vector on a software adapter, 64 threads on a GPU. */
const rowsPerGroup = (limits: KernelLimits) => (limits.hardware ? 64 : 8);

const range = (n: number) => [...Array(n).keys()];
/** `f(e)` for each feature e < d, joined into statements. */
const each = (d: number, f: (e: number) => string, sep = " ") => range(d).map(f).join(sep);
/** sum_e a(e) * b(e) as a balanced tree of products (a chain of fmas ran no faster on lavapipe; the tree's dependency depth is log2 d). */
const dot = (d: number, a: (e: number) => string, b: (e: number) => string): string => {
  let terms = range(d).map((e) => `${a(e)} * ${b(e)}`);
  while (terms.length > 1) terms = range(Math.ceil(terms.length / 2)).map((k) => (2 * k + 1 < terms.length ? `(${terms[2 * k]} + ${terms[2 * k + 1]})` : terms[2 * k]));
  return terms[0] ?? "0.0";
};

/**
 * Rows (queries, or keys in the backward) each invocation owns on a software adapter. On
 * lavapipe every storage load is a per-lane gather, a workgroup-uniform address too, so what
 * pays is using each streamed value for several rows' fmas; and lavapipe compiles a shader at
 * its first dispatch, where the rows' straight-line code costs LLVM time. bench/attention.ts
 * at [32, 256, 4 heads x 8] (lavapipe, 2 cores, MESA_SHADER_CACHE_DISABLE=true), forward /
 * stats / grad, ms a dispatch (first dispatch, with LLVM, in ms):
 *   plain loads, 8 / 8 / 8 rows:       27.6 / 20.4 / 57.1   (488 / 399 / 1584)
 *   broadcast rows, 8 / 8 / 8 rows:    14.9 / 11.4 / 41.5   (234 / 263 / 1041)
 *   broadcast rows, 4 / 4 / 4 rows:    19.1 / 14.9 / 41.8   (198 / 245 / 848)
 *   broadcast rows, 16 / 16 / 16 rows: 12.0 / 10.5 / 39.2   (357 / 308 / 1413)
 * So 8 / 8 / 4: the gradient gains nothing past 4 rows, and 16 would save ~4 ms a layer for
 * ~170 ms of first step. (Before loadRows/storeRows put the owned rows' loads and stores in
 * loops, 8 rows cost ~15 s of LLVM for the three.) A GPU keeps one row per thread.
 */
export const ATTENTION_ROWS_CPU = { forward: 8, stats: 8, grad: 4 } as const;

/** Rows per invocation: no more than a workgroup needs to cover the sequence (a power of two, so few variants). */
function rowsPerLane(limits: KernelLimits, kind: keyof typeof ATTENTION_ROWS_CPU, s: number): number {
  if (limits.hardware) return 1;
  const need = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(s / rowsPerGroup(limits)))));
  return Math.min(ATTENTION_ROWS_CPU[kind], need);
}

/**
 * The shared head of the three kernels: the workgroup's (sample, head) and its rows, with sizes
 * from the uniform. Defines n, h (uniform), `first` (this lane's first row; its r-th owned row
 * is first + r * wg, rows a workgroup apart so lanes stay consecutive) and `rows` (rows per
 * lane, a uniform: loadRows/storeRows loop over them). `kv` is the offset of row 0's head h in qkv. `passes` sets of workgroups
 * each cover all rows once (`role` says which); `body` follows.
 */
function attentionMain(g: Geometry, dims: Dims, wg: number, rpl: number, passes: number, bc: boolean, body: string): { code: string; total: number } {
  const blocks = Math.ceil(g.s / (wg * rpl));
  const groups = g.n * g.heads * blocks;
  const code = `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${bc ? ", @builtin(subgroup_invocation_id) sgl: u32" : ""}) {
  let t = wid.x + wid.y * nwg.x;
  if (t >= ${dims.u("total", groups * passes)}) { return; }
  let role = t / ${dims.u("groups", groups)};
  let tp = t - role * dims.groups;
  let nh = ${dims.div("tp", "blocks", blocks, groups)};
  let block = ${dims.mod("tp", "blocks", blocks, groups, "nh")};
  let n = ${dims.div("nh", "heads", g.heads, g.n * g.heads)};
  let h = ${dims.mod("nh", "heads", g.heads, g.n * g.heads, "n")};
  let s = ${dims.u("s", g.s)};
  let first = block * ${wg * rpl}u + lid;
  let c3 = ${dims.u("c3", 3 * g.heads * g.d)};
  let c = ${dims.u("c", g.heads * g.d)};
  let kv = n * s * c3 + h * ${3 * g.d}u;
  let rows = ${dims.u("rows", rpl)};
${body}
}`;
  return { code, total: groups * passes };
}

function kernel(inputs: readonly ValueType[], out: ValueType, dims: Dims, main: { code: string; total: number }, wg: number, limits: KernelLimits, extraOuts: readonly ValueType[] = []): KernelSource {
  return {
    code: `${broadcastRows(limits) ? "enable subgroups;\n" : ""}${bindings(inputs, out, extraOuts)}
${dims.declare(inputs.length + 1 + extraOuts.length)}
${main.code}`,
    workgroups: grid(main.total * wg, limits, wg),
    uniforms: dims.words(),
  };
}

/** Statements `f(r)` for each owned row r, one line each. */
const perRow = (rpl: number, f: (r: number) => string, indent = "  ") => range(rpl).map((r) => `${indent}${f(r)}`).join("\n");

/**
 * Whether the streamed rows reach the lanes by `subgroupBroadcast`: on a software adapter whose
 * subgroups hold the whole 8-lane workgroup. A streamed row's address is the same in every lane,
 * yet lavapipe compiles each storage load as a per-lane gather (a bounds test and a branch per
 * lane, ~8 ms of LLVM each, cold): there, lane l loads feature 8c + l and the broadcasts hand
 * every lane feature e, so a row of d features costs ceil(d / 8) gathers instead of d.
 * Measured in bench/attention.ts: 1.4-1.9x faster a dispatch, and ~1.1 s less LLVM for the
 * three kernels' first dispatches (ATTENTION_ROWS_CPU has the figures).
 */
const broadcastRows = (limits: KernelLimits) => !limits.hardware && (limits.subgroupMinSize ?? 0) >= rowsPerGroup(limits);

/**
 * Loads a streamed row: `let <name><e> = ...;` for each feature e < d, where `at(i)` is the
 * element at u32 index expression i of the row. With broadcast, lane `sgl` loads feature
 * 8c + sgl (clamped into the row) and `subgroupBroadcast` hands it out.
 */
function load(d: number, name: string, at: (i: string) => string, bc: boolean): string {
  if (!bc) return each(d, (e) => `let ${name}${e} = ${at(`${e}u`)};`);
  const chunks = range(Math.ceil(d / 8)).map((c) => `let ${name}L${c} = ${at(d <= 8 * c + 1 ? `${8 * c}u` : `min(${8 * c}u + sgl, ${d - 1}u)`)};`);
  return `${chunks.join(" ")} ${each(d, (e) => `let ${name}${e} = subgroupBroadcast(${name}L${e >> 3}, ${e & 7}u);`)}`;
}

/**
 * The owned rows' own values and results live in registers `<name><r>_<e>`, reached from a loop
 * over the rows whose bound is the uniform `rows` (so LLVM does not unroll it): each row's loads
 * and stores are compiled once, not once per row, and `select` on the (uniform) row index picks
 * a row's registers. On lavapipe every load and store is a scalarised per-lane gather or
 * scatter, and written out per row they were most of these kernels' cold compile (grad at 4
 * rows: 3.4 s). Private arrays indexed by the row, as before, lavapipe compiled as scratch
 * memory: with selects the grad kernel's first dispatch went from 1.3-1.7 s to 0.9-1.0 s, and a
 * dispatch from ~60 to 40-47 ms (bench/attention.ts). A GPU keeps one row per thread, where the
 * loop runs once.
 */
interface RowValues {
  /** the registers `<name><r>_<e>` */
  readonly name: string;
  readonly width: number;
  /** the value of feature e of the row at index `row` */
  readonly src: (e: number) => string;
}

/** Loads each owned row's values (rows clamped into [0, S)) into its registers. */
function loadRows(rpl: number, wg: number, values: readonly RowValues[], indent = "  "): string {
  const decl = perRow(rpl, (r) => values.map((v) => each(v.width, (e) => `var ${v.name}${r}_${e} = 0.0;`)).join(" "), indent);
  const load = values.map((v) => each(v.width, (e) => `let ${v.name}_${e} = ${v.src(e)};`)).join(" ");
  const pick = range(rpl)
    .map((r) => values.map((v) => each(v.width, (e) => (rpl === 1 ? `${v.name}0_${e} = ${v.name}_${e};` : `${v.name}${r}_${e} = select(${v.name}${r}_${e}, ${v.name}_${e}, r == ${r}u);`))).join(" "))
    .join(" ");
  return `${decl}
${indent}for (var r = 0u; r < rows; r++) { let row = min(first + r * ${wg}u, s - 1u); ${load} ${pick} }`;
}

/** `body` for each live owned row (`row`, `r`), which reads the row's registers by fromRows. */
function storeRows(wg: number, body: string, indent = "  "): string {
  return `${indent}for (var r = 0u; r < rows; r++) { let row = first + r * ${wg}u; if (row < s) { ${body} } }`;
}

/** Register `<name><r>_<e>` of row r (of rpl), in a storeRows body. */
const fromRows = (name: string, rpl: number, e: number) => selectByIndex(range(rpl).map((r) => `${name}${r}_${e}`), "r");

/**
 * The first pass of the forward and of the stats: each owned query row's scaled q (q<r>_<e>)
 * and the max of its scores over every key (m<r>).
 */
function rowMaxima(g: Geometry, rpl: number, wg: number, bc: boolean): string {
  const { d } = g;
  return `${loadRows(rpl, wg, [{ name: "q", width: d, src: (e) => `in0[kv + row * c3 + ${e}u] * ${f32Literal(g.scale)}` }])}
${perRow(rpl, (r) => `var m${r} = -3.4e38;`)}
  for (var j = 0u; j < s; j++) {
    let kr = kv + j * c3;
    ${load(d, "k", (i) => `in0[kr + ${d}u + ${i}]`, bc)}
${perRow(rpl, (r) => `m${r} = max(m${r}, ${dot(d, (e) => `q${r}_${e}`, (e) => `k${e}`)});`, "    ")}
  }`;
}

/**
 * Forward, two passes over the keys (the max of the scores, then the exponentials with the
 * values): a pass recomputes d fmas of scores per key, where an online softmax would rescale
 * the d accumulators and take a second exp at every key. `lse`: also store each row's
 * logsumexp (attention_lse, [N, heads, S]) as `out1`, computed on the way.
 */
export function forwardKernel(qkv: ValueType, out: ValueType, g: Geometry, limits: KernelLimits, lse?: ValueType): KernelSource {
  const { d } = g;
  const [wg, rpl, bc] = [rowsPerGroup(limits), rowsPerLane(limits, "forward", g.s), broadcastRows(limits)];
  const dims = new Dims();
  const score = (r: number) => dot(d, (e) => `q${r}_${e}`, (e) => `k${e}`);
  const main = attentionMain(g, dims, wg, rpl, 1, bc, `${rowMaxima(g, rpl, wg, bc)}
${perRow(rpl, (r) => `var t${r} = 0.0; ${each(d, (e) => `var o${r}_${e} = 0.0;`)}`)}
  for (var j = 0u; j < s; j++) {
    let kr = kv + j * c3;
    ${load(d, "k", (i) => `in0[kr + ${d}u + ${i}]`, bc)}
    ${load(d, "v", (i) => `in0[kr + ${2 * d}u + ${i}]`, bc)}
${perRow(rpl, (r) => `{ let p = exp(${score(r)} - m${r}); t${r} += p; ${each(d, (e) => `o${r}_${e} = fma(p, v${e}, o${r}_${e});`)} }`, "    ")}
  }
${perRow(rpl, (r) => `let t${r}_0 = t${r};${lse ? ` let m${r}_0 = m${r};` : ""}`)}
${lse ? `  let heads = ${dims.u("heads", g.heads)};
` : ""}${storeRows(
    wg,
    `let t = ${fromRows("t", rpl, 0)}; let inv = 1.0 / t; let orow = (n * s + row) * c + h * ${d}u; ${each(d, (e) => `out[orow + ${e}u] = ${fromRows("o", rpl, e)} * inv;`)}${lse ? ` out1[(n * heads + h) * s + row] = ${fromRows("m", rpl, 0)} + log(t);` : ""}`,
  )}`);
  return kernel([qkv], out, dims, main, wg, limits, lse ? [lse] : []);
}

/** The forward of attention over `qkv` storing out and, as its second output, attention_lse's logsumexp (the schedule's fusion of the two). */
export function attentionWithLseKernel(qkv: ValueType, out: ValueType, lse: ValueType, heads: number, limits: KernelLimits): KernelSource {
  return forwardKernel(qkv, out, geometry("attention", qkv, heads), limits, lse);
}

/** Per query row, the logsumexp of its scaled scores (attention_lse alone, where no forward computes it). */
export function lseKernel(qkv: ValueType, out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  const { d } = g;
  const [wg, rpl, bc] = [rowsPerGroup(limits), rowsPerLane(limits, "stats", g.s), broadcastRows(limits)];
  const dims = new Dims();
  const score = (r: number) => dot(d, (e) => `q${r}_${e}`, (e) => `k${e}`);
  const main = attentionMain(g, dims, wg, rpl, 1, bc, `${rowMaxima(g, rpl, wg, bc)}
${perRow(rpl, (r) => `var t${r} = 0.0;`)}
  for (var j = 0u; j < s; j++) {
    let kr = kv + j * c3;
    ${load(d, "k", (i) => `in0[kr + ${d}u + ${i}]`, bc)}
${perRow(rpl, (r) => `t${r} += exp(${score(r)} - m${r});`, "    ")}
  }
  let heads = ${dims.u("heads", g.heads)};
${perRow(rpl, (r) => `let m${r}_0 = m${r}; let t${r}_0 = t${r};`)}
${storeRows(wg, `out[(n * heads + h) * s + row] = ${fromRows("m", rpl, 0)} + log(${fromRows("t", rpl, 0)});`)}`);
  return kernel([qkv], out, dims, main, wg, limits);
}

/** Per query row (n, h, i), a flat loop over the rows (flatKernel): its logsumexp (from lse) and D = g . out over the head's features. */
export function statsKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  const { d } = g;
  const rows = g.n * g.heads * g.s;
  const dims = flatDims(rows);
  const body = `  let nh = ${dims.div("i", "s", g.s, rows)};
  let q = i - nh * ${dims.u("s", g.s)};
  let n = ${dims.div("nh", "heads", g.heads, g.n * g.heads)};
  let h = nh - n * ${dims.u("heads", g.heads)};
  let orow = (n * ${dims.u("s", g.s)} + q) * ${dims.u("c", g.heads * d)} + h * ${d}u;
  out[i * 2u] = in0[i];
  out[i * 2u + 1u] = ${dot(d, (e) => `in1[orow + ${e}u]`, (e) => `in2[orow + ${e}u]`)};`;
  return flatKernel(inputs, out, rows, body, limits, { dims });
}

/** dqkv: pass 0 owns query rows (dQ), pass 1 key rows (dK, dV). */
export function gradKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  const { d } = g;
  const [wg, rpl, bc] = [rowsPerGroup(limits), rowsPerLane(limits, "grad", g.s), broadcastRows(limits)];
  const dims = new Dims();
  const sc = f32Literal(g.scale);
  const main = attentionMain(g, dims, wg, rpl, 2, bc, `  let st0 = (n * ${dims.u("heads", g.heads)} + h) * s * 2u;
  let gb = n * s * c + h * ${d}u;
  if (role == 0u) {
    // query rows i: dq_i = scale sum_j P_ij (g_i . v_j - D_i) k_j
${loadRows(
  rpl,
  wg,
  [
    { name: "q", width: d, src: (e) => `in0[kv + row * c3 + ${e}u] * ${sc}` },
    { name: "g", width: d, src: (e) => `in1[gb + row * c + ${e}u]` },
    { name: "st", width: 2, src: (e) => `in2[st0 + row * 2u + ${e}u]` },
  ],
  "    ",
)}
${perRow(rpl, (r) => `let lse${r} = st${r}_0; let D${r} = st${r}_1; ${each(d, (e) => `var a${r}_${e} = 0.0;`)}`, "    ")}
    for (var j = 0u; j < s; j++) {
      let kr = kv + j * c3;
      ${load(d, "k", (i) => `in0[kr + ${d}u + ${i}]`, bc)}
      ${load(d, "v", (i) => `in0[kr + ${2 * d}u + ${i}]`, bc)}
${perRow(rpl, (r) => `{ let p = exp(${dot(d, (e) => `q${r}_${e}`, (e) => `k${e}`)} - lse${r}); let ds = p * (${dot(d, (e) => `g${r}_${e}`, (e) => `v${e}`)} - D${r}); ${each(d, (e) => `a${r}_${e} = fma(ds, k${e}, a${r}_${e});`)} }`, "      ")}
    }
${storeRows(wg, `let own = kv + row * c3; ${each(d, (e) => `out[own + ${e}u] = ${fromRows("a", rpl, e)} * ${sc};`)}`, "    ")}
  } else {
    // key rows i: dk_i = scale sum_j P_ji (g_j . v_i - D_j) q_j, dv_i = sum_j P_ji g_j
${loadRows(
  rpl,
  wg,
  [
    { name: "k", width: d, src: (e) => `in0[kv + row * c3 + ${d + e}u] * ${sc}` },
    { name: "v", width: d, src: (e) => `in0[kv + row * c3 + ${2 * d + e}u]` },
  ],
  "    ",
)}
${perRow(rpl, (r) => each(d, (e) => `var a${r}_${e} = 0.0; var b${r}_${e} = 0.0;`), "    ")}
    for (var j = 0u; j < s; j++) {
      let qr = kv + j * c3;
      let gr = gb + j * c;
      ${load(d, "q", (i) => `in0[qr + ${i}]`, bc)}
      ${load(d, "g", (i) => `in1[gr + ${i}]`, bc)}
      ${load(2, "ld", (i) => `in2[st0 + j * 2u + ${i}]`, bc)}
      let lse = ld0; let D = ld1;
${perRow(rpl, (r) => `{ let p = exp(${dot(d, (e) => `k${r}_${e}`, (e) => `q${e}`)} - lse); ${each(d, (e) => `b${r}_${e} = fma(p, g${e}, b${r}_${e});`)} let ds = p * (${dot(d, (e) => `v${r}_${e}`, (e) => `g${e}`)} - D); ${each(d, (e) => `a${r}_${e} = fma(ds, q${e}, a${r}_${e});`)} }`, "      ")}
    }
${storeRows(wg, `let own = kv + row * c3; ${each(d, (e) => `out[own + ${d + e}u] = ${fromRows("a", rpl, e)} * ${sc}; out[own + ${2 * d + e}u] = ${fromRows("b", rpl, e)};`)}`, "    ")}
  }`);
  return kernel(inputs, out, dims, main, wg, limits);
}

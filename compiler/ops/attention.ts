// Fused multi-head self-attention, forward and backward, without the score matrix in memory.
//
//   attention        qkv [N, S, 3C] -> out [N, S, C]           softmax(Q K^T * scale) V per head
//   attention_lse    qkv -> [N, heads, S]  per query row, the logsumexp of its scaled scores
//   attention_stats  lse, out, g [N, S, C] -> [N, heads, S, 2] per query row: the logsumexp and
//                    D = g . out (the softmax VJP's row sum), side by side for the backward
//   attention_grad   qkv, g, stats -> dqkv [N, S, 3C]
//
// The forward has each row's logsumexp at hand: the schedule computes attention_lse in the
// forward's kernel, stored beside its output (forwardKernel's `lse`), so the backward does not
// pass over the keys again for it.
//
// Layout as graph/composites/attention.ts (the course's fused qkv): head h owns the features
// [3d h, 3d (h + 1)) of a token, [q_h | k_h | v_h], d wide each; out's features are the heads
// in order, h d + e. scale = 1 / sqrt(d).
//
// Why: at 16x16 tokens the decomposed attention (transposes, slices, two batched matmuls,
// softmax and its VJP) writes and reads the [N, h, S, S] scores and probabilities several times
// a step; on lavapipe (config S) its matmuls, softmax and transposes were a quarter of the step.
// Here each invocation owns one query row (or, in the backward, one key row) and streams the
// other side's rows, recomputing scores instead of storing them (FlashAttention's recomputation,
// without its tiling: d is small, so a row's q, its accumulators and the keys fit in registers).
// A workgroup covers consecutive rows of one (sample, head), so the streamed rows' addresses
// depend on the workgroup alone: lavapipe loads them once as scalars for all its SIMD lanes, a
// GPU's threads read one broadcast address.
//
// Gradients (P = softmax(S), S = scale Q K^T, dP = g V^T, D_i = sum_j P_ij dP_ij = g_i . out_i):
//   dS = P * (dP - D),  dQ = scale dS K,  dK = scale dS^T Q,  dV = P^T g.
// attention_grad runs two kinds of workgroups: the first half own query rows (dQ), the second
// key rows (dK and dV, streaming the queries with their logsumexp and D).

import type { ValueType } from "../ir/types.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import { Dims } from "../wgsl/dims.js";
import { bindings, f32Literal, grid } from "../wgsl/wgsl.js";
import { allocFloat, check, floats, noVjp, requireDType, requireShape, type OpDef } from "./def.js";

/** Sizes of an attention over qkv [N, S, 3C]. */
interface Geometry {
  readonly n: number;
  readonly s: number;
  readonly heads: number;
  /** Channels per head. */
  readonly d: number;
  readonly scale: number;
}

function geometry(op: string, qkv: { readonly shape: readonly number[] }, heads: number): Geometry {
  check(op, qkv.shape.length === 3, () => `qkv must have rank 3 [N, S, 3C], got [${qkv.shape.join(", ")}]`);
  const [n, s, c3] = qkv.shape;
  check(op, Number.isInteger(heads) && heads >= 1, () => `heads must be a positive integer, got ${heads}`);
  check(op, c3 % (3 * heads) === 0, () => `qkv's last axis ${c3} is not 3 * heads (${heads}) * head size`);
  const d = c3 / (3 * heads);
  return { n, s, heads, d, scale: 1 / Math.sqrt(d) };
}

/** out (and g) [N, S, C] for qkv [N, S, 3C]. */
function outType(g: Geometry): ValueType {
  return { shape: [g.n, g.s, g.heads * g.d], dtype: "f32" };
}

/** lse [N, heads, S]: per query row, the logsumexp of its scaled scores. */
const lseShape = (g: Geometry): number[] => [g.n, g.heads, g.s];

/** stats [N, heads, S, 2]: per query row, the logsumexp and g . out. */
const statsShape = (g: Geometry): number[] => [g.n, g.heads, g.s, 2];

// ---- reference kernels (the test oracle): scores in full, one row at a time -------------------

/** Row i's scaled scores against every key of (sample n, head h), written into `row`. */
function scoresRow(x: ArrayLike<number>, g: Geometry, n: number, h: number, i: number, row: Float64Array): void {
  const c3 = 3 * g.heads * g.d;
  const q = (n * g.s + i) * c3 + h * 3 * g.d;
  for (let j = 0; j < g.s; j++) {
    const k = (n * g.s + j) * c3 + h * 3 * g.d + g.d;
    let dot = 0;
    for (let e = 0; e < g.d; e++) dot += x[q + e] * x[k + e];
    row[j] = dot * g.scale;
  }
}

/** Softmax of `row` in place; returns its logsumexp. */
function softmaxRow(row: Float64Array): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let total = 0;
  for (let j = 0; j < row.length; j++) total += row[j] = Math.exp(row[j] - max);
  for (let j = 0; j < row.length; j++) row[j] /= total;
  return max + Math.log(total);
}

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
 * The owned rows' own values and results go through private arrays and a loop over the rows
 * whose bound is the uniform `rows` (so LLVM does not unroll it): each row's loads and stores
 * are compiled once, not once per row. On lavapipe every load and store is a scalarised per-lane
 * gather or scatter, and written out per row they were most of these kernels' cold compile
 * (grad at 4 rows: 3.4 s); the hot loop keeps its per-row registers, read from the arrays at
 * constant indices.
 */
interface RowValues {
  /** the private array, and the registers `<name><r>_<e>` read from it */
  readonly name: string;
  readonly width: number;
  /** the value of feature e of the row at index `row` */
  readonly src: (e: number) => string;
}

/** Loads each owned row's values (rows clamped into [0, S), as i<r>) and binds them to registers. */
function loadRows(rpl: number, wg: number, values: readonly RowValues[], indent = "  "): string {
  const decl = values.map((v) => `var ${v.name}_rows: array<f32, ${rpl * v.width}>;`).join(" ");
  const fill = values.map((v) => each(v.width, (e) => `${v.name}_rows[r * ${v.width}u + ${e}u] = ${v.src(e)};`)).join(" ");
  const regs = perRow(rpl, (r) => values.map((v) => each(v.width, (e) => `let ${v.name}${r}_${e} = ${v.name}_rows[${r * v.width + e}];`)).join(" "), indent);
  return `${indent}${decl}
${indent}for (var r = 0u; r < rows; r++) { let row = min(first + r * ${wg}u, s - 1u); ${fill} }
${regs}`;
}

/** Copies each owned row's registers `<name><r>_<e>` (e < width) into arrays, then `body` for each live row (`row`, `r`; `<name>_rows[r * width + e]`). */
function storeRows(rpl: number, wg: number, values: readonly { name: string; width: number }[], body: string, indent = "  "): string {
  const decl = values.map((v) => `var ${v.name}_rows: array<f32, ${rpl * v.width}>;`).join(" ");
  const fill = perRow(rpl, (r) => values.map((v) => each(v.width, (e) => `${v.name}_rows[${r * v.width + e}] = ${v.name}${r}_${e};`)).join(" "), indent);
  return `${indent}${decl}
${fill}
${indent}for (var r = 0u; r < rows; r++) { let row = first + r * ${wg}u; if (row < s) { ${body} } }`;
}

/** `<name>_rows[r * width + e]`, in a storeRows body. */
const fromRows = (name: string, width: number, e: number) => `${name}_rows[r * ${width}u + ${e}u]`;

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
function forwardKernel(qkv: ValueType, out: ValueType, g: Geometry, limits: KernelLimits, lse?: ValueType): KernelSource {
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
    rpl,
    wg,
    [{ name: "o", width: d }, { name: "t", width: 1 }, ...(lse ? [{ name: "m", width: 1 }] : [])],
    `let inv = 1.0 / t_rows[r]; let orow = (n * s + row) * c + h * ${d}u; ${each(d, (e) => `out[orow + ${e}u] = ${fromRows("o", d, e)} * inv;`)}${lse ? " out1[(n * heads + h) * s + row] = m_rows[r] + log(t_rows[r]);" : ""}`,
  )}`);
  return kernel([qkv], out, dims, main, wg, limits, lse ? [lse] : []);
}

/** The forward of attention over `qkv` storing out and, as its second output, attention_lse's logsumexp (the schedule's fusion of the two). */
export function attentionWithLseKernel(qkv: ValueType, out: ValueType, lse: ValueType, heads: number, limits: KernelLimits): KernelSource {
  return forwardKernel(qkv, out, geometry("attention", qkv, heads), limits, lse);
}

/** Per query row, the logsumexp of its scaled scores (attention_lse alone, where no forward computes it). */
function lseKernel(qkv: ValueType, out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
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
${storeRows(rpl, wg, [{ name: "m", width: 1 }, { name: "t", width: 1 }], `out[(n * heads + h) * s + row] = m_rows[r] + log(t_rows[r]);`)}`);
  return kernel([qkv], out, dims, main, wg, limits);
}

/** Per query row (n, h, i), one invocation: its logsumexp (from lse) and D = g . out over the head's features. */
function statsKernel([lse, o, gy]: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  const { d } = g;
  const rows = g.n * g.heads * g.s;
  const dims = new Dims();
  const code = `${bindings([lse, o, gy], out)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  if (t >= ${dims.u("rows", rows)}) { return; }
  let nh = ${dims.div("t", "s", g.s, rows)};
  let i = t - nh * ${dims.u("s", g.s)};
  let n = ${dims.div("nh", "heads", g.heads, g.n * g.heads)};
  let h = nh - n * ${dims.u("heads", g.heads)};
  let orow = (n * dims.s + i) * ${dims.u("c", g.heads * d)} + h * ${d}u;
  out[t * 2u] = in0[t];
  out[t * 2u + 1u] = ${dot(d, (e) => `in1[orow + ${e}u]`, (e) => `in2[orow + ${e}u]`)};
}`;
  return { code: code.replace("@compute", `${dims.declare(4)}
@compute`), workgroups: grid(rows, limits), uniforms: dims.words() };
}

/** dqkv: pass 0 owns query rows (dQ), pass 1 key rows (dK, dV). */
function gradKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
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
${storeRows(rpl, wg, [{ name: "a", width: d }], `let own = kv + row * c3; ${each(d, (e) => `out[own + ${e}u] = ${fromRows("a", d, e)} * ${sc};`)}`, "    ")}
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
${storeRows(rpl, wg, [{ name: "a", width: d }, { name: "b", width: d }], `let own = kv + row * c3; ${each(d, (e) => `out[own + ${d + e}u] = ${fromRows("a", d, e)} * ${sc}; out[own + ${2 * d + e}u] = ${fromRows("b", d, e)};`)}`, "    ")}
  }`);
  return kernel(inputs, out, dims, main, wg, limits);
}

// ---- the ops ----------------------------------------------------------------------------------

export const attention: OpDef<"attention"> = {
  kind: "attention",
  arity: 1,
  shape: ([qkv], { heads }) => {
    requireDType("attention", [qkv], "f32");
    return outType(geometry("attention", qkv, heads));
  },
  vjp: ({ b, g, inputs: [qkv], out, params }) => {
    const lse = b.op("attention_lse", [qkv], params);
    const stats = b.op("attention_stats", [lse, out, g], params);
    return [b.op("attention_grad", [qkv, g, stats], params)];
  },
  reference: ([qkv], { heads }, out, ctx) => {
    const g = geometry("attention", qkv, heads);
    const x = floats(qkv);
    const dst = allocFloat(ctx, g.n * g.s * g.heads * g.d);
    const row = new Float64Array(g.s);
    const c3 = 3 * g.heads * g.d;
    for (let n = 0; n < g.n; n++) {
      for (let h = 0; h < g.heads; h++) {
        for (let i = 0; i < g.s; i++) {
          scoresRow(x, g, n, h, i, row);
          softmaxRow(row);
          for (let e = 0; e < g.d; e++) {
            let acc = 0;
            for (let j = 0; j < g.s; j++) acc += row[j] * x[(n * g.s + j) * c3 + h * 3 * g.d + 2 * g.d + e];
            dst[(n * g.s + i) * g.heads * g.d + h * g.d + e] = acc;
          }
        }
      }
    }
    return dst;
  },
  wgsl: ({ inputs: [qkv], out, params, limits }) => forwardKernel(qkv, out, geometry("attention", qkv, params.heads), limits),
};

export const attentionLse: OpDef<"attention_lse"> = {
  kind: "attention_lse",
  arity: 1,
  shape: ([qkv], { heads }) => {
    requireDType("attention_lse", [qkv], "f32");
    return { shape: lseShape(geometry("attention_lse", qkv, heads)), dtype: "f32" };
  },
  vjp: noVjp("only the attention backward reads it, and the step differentiates once"),
  reference: ([qkv], { heads }, _o, ctx) => {
    const geo = geometry("attention_lse", qkv, heads);
    const x = floats(qkv);
    const dst = allocFloat(ctx, geo.n * geo.heads * geo.s);
    const row = new Float64Array(geo.s);
    for (let n = 0; n < geo.n; n++) {
      for (let h = 0; h < geo.heads; h++) {
        for (let i = 0; i < geo.s; i++) {
          scoresRow(x, geo, n, h, i, row);
          dst[(n * geo.heads + h) * geo.s + i] = softmaxRow(row);
        }
      }
    }
    return dst;
  },
  wgsl: ({ inputs: [qkv], out, params, limits }) => lseKernel(qkv, out, geometry("attention_lse", qkv, params.heads), limits),
};

/** The geometry of out [N, S, C] (and g) with `heads` heads (attention_stats has no qkv). */
function rowGeometry(op: string, out: { readonly shape: readonly number[] }, heads: number): Geometry {
  check(op, out.shape.length === 3, () => `out must have rank 3 [N, S, C], got [${out.shape.join(", ")}]`);
  const [n, s, c] = out.shape;
  return geometry(op, { shape: [n, s, 3 * c] }, heads);
}

export const attentionStats: OpDef<"attention_stats"> = {
  kind: "attention_stats",
  arity: 3,
  shape: ([lse, out, g], { heads }) => {
    requireDType("attention_stats", [lse, out, g], "f32");
    const geo = rowGeometry("attention_stats", out, heads);
    requireShape("attention_stats", "lse", lse, lseShape(geo));
    requireShape("attention_stats", "g", g, outType(geo).shape);
    return { shape: statsShape(geo), dtype: "f32" };
  },
  vjp: noVjp("only the attention backward reads it, and the step differentiates once"),
  reference: ([lse, out, g], { heads }, _o, ctx) => {
    const geo = rowGeometry("attention_stats", out, heads);
    const [l, y, dy] = [floats(lse), floats(out), floats(g)];
    const dst = allocFloat(ctx, geo.n * geo.heads * geo.s * 2);
    for (let n = 0; n < geo.n; n++) {
      for (let h = 0; h < geo.heads; h++) {
        for (let i = 0; i < geo.s; i++) {
          const o = (n * geo.s + i) * geo.heads * geo.d + h * geo.d;
          let rowD = 0;
          for (let e = 0; e < geo.d; e++) rowD += dy[o + e] * y[o + e];
          const at = (n * geo.heads + h) * geo.s + i;
          dst[at * 2] = l[at];
          dst[at * 2 + 1] = rowD;
        }
      }
    }
    return dst;
  },
  wgsl: ({ inputs, out, params, limits }) => statsKernel(inputs, out, rowGeometry("attention_stats", inputs[1], params.heads), limits),
};

export const attentionGrad: OpDef<"attention_grad"> = {
  kind: "attention_grad",
  arity: 3,
  shape: ([qkv, g, stats], { heads }) => {
    requireDType("attention_grad", [qkv, g, stats], "f32");
    const geo = geometry("attention_grad", qkv, heads);
    requireShape("attention_grad", "g", g, outType(geo).shape);
    requireShape("attention_grad", "stats", stats, statsShape(geo));
    return qkv;
  },
  vjp: noVjp("the step differentiates once"),
  reference: ([qkv, g, stats], { heads }, _o, ctx) => {
    const geo = geometry("attention_grad", qkv, heads);
    const [x, dy, st] = [floats(qkv), floats(g), floats(stats)];
    const { d, s } = geo;
    const c3 = 3 * geo.heads * d;
    const c = geo.heads * d;
    const dst = allocFloat(ctx, x.length);
    const p = new Float64Array(s);
    for (let n = 0; n < geo.n; n++) {
      for (let h = 0; h < geo.heads; h++) {
        const at = (t: number, part: number, e: number) => (n * s + t) * c3 + h * 3 * d + part * d + e;
        const gAt = (t: number, e: number) => (n * s + t) * c + h * d + e;
        for (let i = 0; i < s; i++) {
          // P_i from the stored logsumexp, as the kernel does; dS_ij = P_ij (g_i . v_j - D_i)
          scoresRow(x, geo, n, h, i, p);
          const lse = st[((n * geo.heads + h) * s + i) * 2];
          const rowD = st[((n * geo.heads + h) * s + i) * 2 + 1];
          for (let j = 0; j < s; j++) {
            const pij = Math.exp(p[j] - lse);
            let dp = 0;
            for (let e = 0; e < d; e++) dp += dy[gAt(i, e)] * x[at(j, 2, e)];
            const ds = pij * (dp - rowD) * geo.scale;
            for (let e = 0; e < d; e++) {
              dst[at(i, 0, e)] += ds * x[at(j, 1, e)];
              dst[at(j, 1, e)] += ds * x[at(i, 0, e)];
              dst[at(j, 2, e)] += pij * dy[gAt(i, e)];
            }
          }
        }
      }
    }
    return dst;
  },
  wgsl: ({ inputs, out, params, limits }) => gradKernel(inputs, out, geometry("attention_grad", inputs[0], params.heads), limits),
};

// Fused BatchNorm in training mode, forward and backward, over x [N, C, ...] with the channels
// on axis 1 and S = the product of the axes after it (1 for BatchNorm1d):
//
//   batchnorm_stats       x -> [2, C]: per channel the mean and the biased variance
//   batchnorm_apply       x, stats, weight, bias -> y = (x - mean) / sqrt(var + eps) * w + b
//   batchnorm_grad_stats  x, dy, stats -> [2, C]: per channel sum(dy) and sum(dy * xhat)
//                         (the bias's and the weight's gradients)
//   batchnorm_input_grad  x, dy, stats, weight, gstats -> dx
//
// Why: decomposed into means, subtractions, squares and the reductions autodiff makes of their
// broadcasts, one BatchNorm was ~31 kernels and ~14 passes over its activation per step; on
// lavapipe (config S) norms were a fifth of the step, as much as any convolution kind. Here it is
// one reading pass for the statistics, one pass for y, and two passes back (PyTorch's
// batch_norm_backward: dx = w rstd (dy - sum(dy) / n - xhat sum(dy xhat) / n)).
//
// With act "silu" batchnorm_apply computes silu(y) (the pre-activation blocks' norm + SiLU, fused
// by passes/lower/fuse-norm-act.ts), so y is never stored: the backward ops take the cotangent of
// silu(y) and the weight and bias, and recompute y and silu'(y) where they read dy.
//
// batchnorm_apply's VJP differentiates through the statistics: its `stats` input must be
// batchnorm_stats of its `x` (graph/composites/norms.ts builds exactly that), and `stats` gets
// no cotangent of its own.
//
// Kernels: the two statistics ops reduce each channel in one workgroup. On a software adapter
// the workgroup is LANES_WG lanes (one SIMD coroutine on lavapipe, so its one barrier is cheap),
// lane l taking samples l, l + LANES_WG, ... and each sample's S contiguous elements in blocks
// of LOOP_BLOCK (bounded rounding growth, as reduce.ts); on a GPU 256 threads stride the
// channel's N * S elements and fold in a tree. The variance is summed shifted by the channel's
// first element (the shifted-data algorithm): one pass, without the cancellation of a plain
// sum of squares.
import { numel } from "../ir/shape.js";
import type { OpNodeOf, ValueType } from "../ir/types.js";
import { Dims } from "../wgsl/dims.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import { bindings, flatDims, flatKernel, grid, opaqueBound } from "../wgsl/wgsl.js";
import type { BatchNormParams } from "../ir/kinds.js";
import { allocFloat, check, floats, noVjp, requireDType, requireShape, type OpDef } from "./def.js";
import { LANES_WG, LOOP_BLOCK } from "./reduce.js";

/** x [N, C, ...] read as [N, C, S]. */
interface Geometry {
  readonly n: number;
  readonly c: number;
  readonly s: number;
}

function geometry(op: string, x: { readonly shape: readonly number[] }): Geometry {
  check(op, x.shape.length >= 2, () => `x must be [N, C, ...], got [${x.shape.join(", ")}]`);
  const [n, c] = x.shape;
  return { n, c, s: numel(x.shape.slice(2)) };
}

const statsShape = (g: Geometry): number[] => [2, g.c];

// ---- reference kernels (the test oracle): two passes in float64 -------------------------------

/** Calls f(offset) for each element of channel ch, samples in order. */
function eachOfChannel(g: Geometry, ch: number, f: (o: number) => void): void {
  for (let n = 0; n < g.n; n++) {
    const base = (n * g.c + ch) * g.s;
    for (let k = 0; k < g.s; k++) f(base + k);
  }
}

const rstdOf = (stats: ArrayLike<number>, g: Geometry, ch: number, eps: number): number => 1 / Math.sqrt(stats[g.c + ch] + eps);

// ---- kernels --------------------------------------------------------------------------------

/**
 * A kernel with one workgroup per channel that folds two sums over the channel's elements
 * (also layernorm.ts's column sums, with x read as [R, D, 1]).
 * `setup` runs once per workgroup (may read `ch`, the channel); `accumulate(a1, a2)` adds the
 * element at offset `o` into the two accumulators; `finish` computes `r0` and `r1` from the
 * totals `t1`, `t2`, which the kernel stores at out[ch] and out[C + ch]. `rows` (each 0 or 1)
 * are stored alone too, as extra outputs out1, out2 in that order: the rows that slices of the
 * [2, C] result would copy out one kernel each (the schedule's statsWithRowsKernel).
 */
export function channelSums(
  inputs: readonly ValueType[],
  out: ValueType,
  g: Geometry,
  limits: KernelLimits,
  parts: { setup: string; accumulate: (a1: string, a2: string) => string; finish: string },
  dims: Dims,
  rows: readonly (0 | 1)[] = [],
): KernelSource {
  const N = dims.u("n", g.n);
  const C = dims.u("c", g.c);
  const S = dims.u("s", g.s);
  const count = g.n * g.s;
  const hardware = limits.hardware === true;
  const wg = hardware ? 256 : LANES_WG;
  // sizes come from the uniform, so every BatchNorm of a step shares the pipeline
  const loop = hardware
    ? // thread t takes elements t, t + wg, ... of the channel's N * S, as (sample, position)
      `  for (var r = lid; r < ${dims.u("count", count)}; r += ${wg}u) {
    let q = ${dims.div("r", "s", g.s, count)};
    let o = (q * ${C} + ch) * ${S} + (r - q * ${S});
${parts.accumulate("a1", "a2")}
  }`
    : // lane l takes samples l, l + wg, ..., each sample's run in blocks of LOOP_BLOCK
      `  for (var n = lid; n < ${N}; n += ${wg}u) {
    let base = (n * ${C} + ch) * ${S};
    for (var b = 0u; b < ${S}; b += ${LOOP_BLOCK}u) {
      var b1 = 0.0;
      var b2 = 0.0;
      let end = min(b + ${LOOP_BLOCK}u, ${S});
      for (var k = b; k < end; k++) {
        let o = base + k;
${parts.accumulate("b1", "b2").replace(/^/gm, "    ")}
      }
      a1 += b1;
      a2 += b2;
    }
  }`;
  const finish = `${parts.finish}
    out[ch] = r0;
    out[${C} + ch] = r1;${rows.map((r, j) => `\n    out${j + 1}[ch] = r${r};`).join("")}`;
  const fold = hardware
    ? `  for (var h = ${opaqueBound(wg >> 1)}; h > 0u; h = h >> 1u) {
    if (lid < h) { p1[lid] += p1[lid + h]; p2[lid] += p2[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t1 = p1[0];
    let t2 = p2[0];
${finish}
  }`
    : `  if (lid == 0u) {
    var t1 = p1[0];
    var t2 = p2[0];
    for (var k = 1u; k < ${opaqueBound(wg)}; k++) { t1 += p1[k]; t2 += p2[k]; }
${finish}
  }`;
  const rowOut: ValueType = { shape: [1, g.c], dtype: "f32" };
  const code = `${bindings(inputs, out, rows.map(() => rowOut))}
${dims.declare(inputs.length + 1 + rows.length)}
var<workgroup> p1: array<f32, ${wg}>;
var<workgroup> p2: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x + wid.y * nwg.x;
  // the whole workgroup returns or none of it: the barriers below stay in uniform control flow
  if (ch >= ${C}) { return; }
${parts.setup}
  var a1 = 0.0;
  var a2 = 0.0;
${loop}
  p1[lid] = a1;
  p2[lid] = a2;
  workgroupBarrier();
${fold}
}`;
  return { code, workgroups: grid(g.c, limits, 1), ...(dims.empty ? {} : { uniforms: dims.words() }) };
}

/**
 * batchnorm_stats; `rows` (each 0, the mean, or 1, the variance) are also stored alone, one
 * extra output each, in order: the rows that slices of the statistics would copy out one kernel
 * each (the running statistics' updates read them, stacked), written where they are computed.
 */
function statsKernel(x: ValueType, out: ValueType, g: Geometry, limits: KernelLimits, rows: readonly (0 | 1)[] = []): KernelSource {
  const dims = new Dims();
  const S = dims.u("s", g.s);
  const count = dims.f("countf", g.n * g.s);
  return channelSums([x], out, g, limits, {
    // the shift: the channel's first element
    setup: `  let shift = in0[ch * ${S}];`,
    accumulate: (a1, a2) => `    let d = in0[o] - shift;
    ${a1} += d;
    ${a2} += d * d;`,
    finish: `    let m = t1 / ${count};
    let r0 = shift + m;
    let r1 = max(t2 / ${count} - m * m, 0.0);`,
  }, dims, rows);
}

/**
 * The kernel of a batchnorm_stats or batchnorm_grad_stats node that also stores `rows` of its
 * [2, C] result alone, as extra outputs in that order: the rows that slices would otherwise copy
 * out one kernel each (the running statistics' updates; the weight's and bias's gradients), both
 * read by stacked kernels.
 */
export function statsWithRowsKernel(node: OpNodeOf<"batchnorm_stats"> | OpNodeOf<"batchnorm_grad_stats">, inputs: readonly ValueType[], rows: readonly (0 | 1)[], limits: KernelLimits): KernelSource {
  const g = geometry(node.op, inputs[0]);
  return node.op === "batchnorm_stats" ? statsKernel(inputs[0], node, g, limits, rows) : gradStatsKernel(inputs, node, g, node.params, limits, rows);
}

/**
 * WGSL for `dy`, the cotangent of y at flat offset `o`: the input itself, or with act "silu" the
 * cotangent of silu(y) (binding `dh`) times silu'(y), y recomputed from x (in0), mean, rstd and
 * the channel's weight and bias.
 */
function dyAt(act: BatchNormParams["act"], o: string, dh: string, weight: string, bias: string): string {
  if (!act) return `let dy = ${dh}[${o}];`;
  return `let y = (in0[${o}] - mean) * rstd * ${weight} + ${bias};
    let sg = 1.0 / (1.0 + exp(-y));
    let dy = ${dh}[${o}] * sg * (1.0 + y * (1.0 - sg));`;
}

function gradStatsKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, p: BatchNormParams, limits: KernelLimits, rows: readonly (0 | 1)[] = []): KernelSource {
  const dims = new Dims();
  const C = dims.u("c", g.c);
  return channelSums(inputs, out, g, limits, {
    setup: `  let mean = in2[ch];
  let rstd = inverseSqrt(in2[${C} + ch] + ${dims.f("eps", p.eps)});${p.act ? "\n  let w = in3[ch];\n  let bias = in4[ch];" : ""}`,
    accumulate: (a1, a2) => `    ${dyAt(p.act, "o", "in1", "w", "bias")}
    ${a1} += dy;
    ${a2} += dy * (in0[o] - mean);`,
    finish: `    let r0 = t1;
    let r1 = t2 * rstd;`,
  }, dims, rows);
}

/** A flat kernel over x's elements with `ch`, the element's channel, and the channel's rstd. */
function perElement(inputs: readonly ValueType[], out: ValueType, g: Geometry, eps: number, statsBinding: number, body: (dims: Dims) => string, limits: KernelLimits): KernelSource {
  const total = g.n * g.c * g.s;
  const dims = flatDims(total);
  const q = dims.div("i", "s", g.s, total);
  const ch = dims.mod(q, "c", g.c, Math.ceil(total / g.s));
  const C = dims.u("c", g.c);
  return flatKernel(inputs, out, total, `  let ch = ${ch};
  let mean = in${statsBinding}[ch];
  let rstd = inverseSqrt(in${statsBinding}[${C} + ch] + ${dims.f("eps", eps)});
${body(dims)}`, limits, { dims });
}

// ---- the ops --------------------------------------------------------------------------------

export const batchnormStats: OpDef<"batchnorm_stats"> = {
  kind: "batchnorm_stats",
  arity: 1,
  shape: ([x]) => {
    requireDType("batchnorm_stats", [x], "f32");
    return { shape: statsShape(geometry("batchnorm_stats", x)), dtype: "f32" };
  },
  // The running statistics' path (batchnorm_apply's VJP gives `stats` no cotangent):
  // d mean / dx = 1 / n, d var / dx = 2 (x - mean) / n.
  vjp: ({ b, g, inputs: [x], out }) => {
    const n = numel(x.shape) / x.shape[1];
    const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
    const row = (v: typeof g, r: number) => b.reshape(b.sliceAxis(v, 0, r, r + 1), perChannel);
    return [b.add(b.div(row(g, 0), n), b.mul(b.mul(row(g, 1), 2 / n), b.sub(x, row(out, 0))))];
  },
  reference: ([x], _p, out, ctx) => {
    const g = geometry("batchnorm_stats", x);
    const src = floats(x);
    const y = allocFloat(ctx, numel(out.shape));
    const count = g.n * g.s;
    for (let ch = 0; ch < g.c; ch++) {
      let sum = 0;
      eachOfChannel(g, ch, (o) => (sum += src[o]));
      const mean = sum / count;
      let sq = 0;
      eachOfChannel(g, ch, (o) => (sq += (src[o] - mean) ** 2));
      y[ch] = mean;
      y[g.c + ch] = sq / count;
    }
    return y;
  },
  wgsl: ({ inputs: [x], out, limits }) => statsKernel(x, out, geometry("batchnorm_stats", x), limits),
};

/** y's value at offset o of channel ch in the reference, and silu(y) or y as the op's output. */
const affineAt = (src: ArrayLike<number>, st: ArrayLike<number>, wt: ArrayLike<number>, bs: ArrayLike<number>, rstd: number, ch: number, o: number): number =>
  (src[o] - st[ch]) * rstd * wt[ch] + bs[ch];
const sigmoid = (y: number): number => 1 / (1 + Math.exp(-y));
/** The reference's dy: the cotangent itself, or (act "silu") the cotangent of silu(y) times silu'(y). */
const dyOf = (act: BatchNormParams["act"], d: number, y: () => number): number => {
  if (!act) return d;
  const v = y();
  const sg = sigmoid(v);
  return d * sg * (1 + v * (1 - sg));
};

/** A backward op's input count, which depends on act (the fused SiLU adds the weight and bias). */
const requireInputs = (op: string, inputs: readonly ValueType[], want: number, act: BatchNormParams["act"]): void =>
  check(op, inputs.length === want, () => `takes ${want} inputs${act ? ` with act ${act}` : ""}, got ${inputs.length}`);

export const batchnormApply: OpDef<"batchnorm_apply"> = {
  kind: "batchnorm_apply",
  arity: 4,
  shape: (inputs) => {
    const op = "batchnorm_apply";
    requireDType(op, inputs, "f32");
    const [x, stats, w, b] = inputs;
    const g = geometry(op, x);
    requireShape(op, "stats", stats, statsShape(g));
    requireShape(op, "weight", w, [g.c]);
    requireShape(op, "bias", b, [g.c]);
    return { shape: [...x.shape], dtype: "f32" };
  },
  vjp: ({ b, g: dout, inputs: [x, stats, w, bias], params, wants }) => {
    // with act "silu", dout is the cotangent of silu(y): the backward ops recompute y from x
    const gstats = b.op("batchnorm_grad_stats", params.act ? [x, dout, stats, w, bias] : [x, dout, stats], params);
    const c = x.shape[1];
    return [
      wants[0] ? b.op("batchnorm_input_grad", params.act ? [x, dout, stats, w, gstats, bias] : [x, dout, stats, w, gstats], params) : null,
      null, // the statistics are x's: their part of dx is in batchnorm_input_grad
      wants[2] ? b.reshape(b.sliceAxis(gstats, 0, 1, 2), [c]) : null,
      wants[3] ? b.reshape(b.sliceAxis(gstats, 0, 0, 1), [c]) : null,
    ];
  },
  reference: ([x, stats, w, bias], { eps, act }, out, ctx) => {
    const g = geometry("batchnorm_apply", x);
    const [src, st, wt, bs] = [floats(x), floats(stats), floats(w), floats(bias)];
    const y = allocFloat(ctx, numel(out.shape));
    for (let ch = 0; ch < g.c; ch++) {
      const rstd = rstdOf(st, g, ch, eps);
      eachOfChannel(g, ch, (o) => {
        const v = affineAt(src, st, wt, bs, rstd, ch, o);
        y[o] = act ? v * sigmoid(v) : v;
      });
    }
    return y;
  },
  wgsl: ({ inputs, out, params: { eps, act }, limits }) =>
    perElement(inputs, out, geometry("batchnorm_apply", inputs[0]), eps, 1, () => `  let y = (in0[i] - mean) * rstd * in2[ch] + in3[ch];
  out[i] = ${act ? "y / (1.0 + exp(-y))" : "y"};`, limits),
};

export const batchnormGradStats: OpDef<"batchnorm_grad_stats"> = {
  kind: "batchnorm_grad_stats",
  arity: "variadic",
  shape: (inputs, { act }) => {
    const op = "batchnorm_grad_stats";
    requireInputs(op, inputs, act ? 5 : 3, act);
    requireDType(op, inputs, "f32");
    const [x, dy, stats, w, b] = inputs;
    const g = geometry(op, x);
    requireShape(op, "dy", dy, x.shape);
    requireShape(op, "stats", stats, statsShape(g));
    if (act) {
      requireShape(op, "weight", w, [g.c]);
      requireShape(op, "bias", b, [g.c]);
    }
    return { shape: statsShape(g), dtype: "f32" };
  },
  vjp: noVjp("the step differentiates once"),
  reference: ([x, dout, stats, w, bias], { eps, act }, out, ctx) => {
    const g = geometry("batchnorm_grad_stats", x);
    const [src, d, st] = [floats(x), floats(dout), floats(stats)];
    const [wt, bs] = act ? [floats(w), floats(bias)] : [[], []];
    const y = allocFloat(ctx, numel(out.shape));
    for (let ch = 0; ch < g.c; ch++) {
      const rstd = rstdOf(st, g, ch, eps);
      let s1 = 0;
      let s2 = 0;
      eachOfChannel(g, ch, (o) => {
        const dy = dyOf(act, d[o], () => affineAt(src, st, wt, bs, rstd, ch, o));
        s1 += dy;
        s2 += dy * (src[o] - st[ch]);
      });
      y[ch] = s1;
      y[g.c + ch] = s2 * rstd;
    }
    return y;
  },
  wgsl: ({ inputs, out, params, limits }) => gradStatsKernel(inputs, out, geometry("batchnorm_grad_stats", inputs[0]), params, limits),
};

export const batchnormInputGrad: OpDef<"batchnorm_input_grad"> = {
  kind: "batchnorm_input_grad",
  arity: "variadic",
  shape: (inputs, { act }) => {
    const op = "batchnorm_input_grad";
    requireInputs(op, inputs, act ? 6 : 5, act);
    requireDType(op, inputs, "f32");
    const [x, dy, stats, w, gstats, b] = inputs;
    const g = geometry(op, x);
    requireShape(op, "dy", dy, x.shape);
    requireShape(op, "stats", stats, statsShape(g));
    requireShape(op, "weight", w, [g.c]);
    requireShape(op, "gstats", gstats, statsShape(g));
    if (act) requireShape(op, "bias", b, [g.c]);
    return { shape: [...x.shape], dtype: "f32" };
  },
  vjp: noVjp("the step differentiates once"),
  reference: ([x, dout, stats, w, gstats, bias], { eps, act }, out, ctx) => {
    const g = geometry("batchnorm_input_grad", x);
    const [src, d, st, wt, gs] = [floats(x), floats(dout), floats(stats), floats(w), floats(gstats)];
    const bs = act ? floats(bias) : [];
    const y = allocFloat(ctx, numel(out.shape));
    const count = g.n * g.s;
    for (let ch = 0; ch < g.c; ch++) {
      const rstd = rstdOf(st, g, ch, eps);
      const [meanDy, meanDyXhat] = [gs[ch] / count, gs[g.c + ch] / count];
      eachOfChannel(g, ch, (o) => {
        const dy = dyOf(act, d[o], () => affineAt(src, st, wt, bs, rstd, ch, o));
        y[o] = wt[ch] * rstd * (dy - meanDy - (src[o] - st[ch]) * rstd * meanDyXhat);
      });
    }
    return y;
  },
  wgsl: ({ inputs, out, params: { eps, act }, limits }) => {
    const g = geometry("batchnorm_input_grad", inputs[0]);
    return perElement(inputs, out, g, eps, 2, (dims) => {
      const C = dims.u("c", g.c);
      const count = dims.f("countf", g.n * g.s);
      return `  ${dyAt(act, "i", "in1", "in3[ch]", "in5[ch]")}
  let xhat = (in0[i] - mean) * rstd;
  out[i] = in3[ch] * rstd * (dy - in4[ch] / ${count} - xhat * in4[${C} + ch] / ${count});`;
    }, limits);
  },
};

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
// key rows (dK and dV, streaming the queries with their logsumexp and D). The WGSL is in
// attention-wgsl.ts.

import { allocFloat, check, floats, noVjp, requireDType, requireShape, type OpDef } from "./def.js";
import { forwardKernel, geometry, gradKernel, lseKernel, lseShape, outType, statsKernel, statsShape, type Geometry } from "./attention-wgsl.js";

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

// Fused LayerNorm over the last axis, forward and backward, x [..., D] read as R rows of D:
//
//   layernorm_stats       x -> [R, 2]: per row the mean and rstd = 1 / sqrt(biased var + eps)
//   layernorm_apply       x, stats, weight [D], bias [D] -> y = (x - mean) * rstd * w + b
//   layernorm_input_grad  x, dy, stats, weight -> dx (PyTorch's layer_norm_backward:
//                         dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy w, per row)
//   layernorm_param_grad  x, dy, stats -> [2, D]: per column sum(dy) and sum(dy xhat) over the
//                         rows (the bias's and the weight's gradients)
//
// Why: decomposed into means, subtractions, squares and the reductions autodiff makes of their
// broadcasts, the attention blocks' LayerNorm was ~29 kernels a step per norm (174 in config S,
// 59 ms a step on lavapipe) and ~12 pipelines, each ~25 ms of LLVM at its first dispatch.
//
// layernorm_apply's VJP differentiates through the statistics, as batchnorm_apply's does: its
// `stats` input must be layernorm_stats of its `x` (graph/composites/norms.ts builds exactly
// that), and `stats` gets no cotangent of its own.
//
// Kernels: one invocation per row for the statistics and the input gradient (a row is the
// channels of one token: 32-256 values, read from cache on the second pass); the parameter
// gradient reduces each column in one workgroup, as the BatchNorm statistics reduce a channel
// (channelSums in batchnorm.ts, with x read as [R, D, 1]).
import { numel } from "../ir/shape.js";
import type { ValueType } from "../ir/types.js";
import { Dims } from "../wgsl/dims.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import { flatDims, flatKernel } from "../wgsl/wgsl.js";
import { channelSums } from "./batchnorm.js";
import { allocFloat, check, floats, noVjp, requireDType, requireShape, type OpDef } from "./def.js";

/** x [..., D] read as [R, D]. */
interface Geometry {
  readonly r: number;
  readonly d: number;
}

function geometry(op: string, x: { readonly shape: readonly number[] }): Geometry {
  check(op, x.shape.length >= 1, () => "x must have at least one axis");
  const d = x.shape[x.shape.length - 1];
  return { r: numel(x.shape) / Math.max(d, 1), d };
}

const statsShape = (g: Geometry): number[] => [g.r, 2];

// ---- kernels --------------------------------------------------------------------------------

/**
 * One invocation per row: `body` reads `base` (the row's first element), `mean` and `rstd` (from
 * `in<statsBinding>`, unless it computes them) and `D`, `Df` (the row's length as u32, f32).
 */
function perRow(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits, statsBinding: number | null, body: (D: string, Df: string, dims: Dims) => string): KernelSource {
  const dims = new Dims();
  const D = dims.u("d", g.d);
  const Df = dims.f("df", g.d);
  const stats = statsBinding === null ? "" : `\n  let mean = in${statsBinding}[2u * i];\n  let rstd = in${statsBinding}[2u * i + 1u];`;
  // rows from the uniform (not arrayLength): every LayerNorm of a step shares the pipeline
  return flatKernel(inputs, out, g.r, `  let base = i * ${D};${stats}
${body(D, Df, dims)}`, limits, { dims, elements: 1 });
}

function statsKernel(x: ValueType, out: ValueType, g: Geometry, eps: number, limits: KernelLimits): KernelSource {
  return perRow([x], out, g, limits, null, (D, Df, dims) => `  var total = 0.0;
  for (var k = 0u; k < ${D}; k++) { total += in0[base + k]; }
  let mean = total / ${Df};
  var sq = 0.0;
  for (var k = 0u; k < ${D}; k++) { let c = in0[base + k] - mean; sq += c * c; }
  out[2u * i] = mean;
  out[2u * i + 1u] = inverseSqrt(sq / ${Df} + ${dims.f("eps", eps)});`);
}

function inputGradKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  return perRow(inputs, out, g, limits, 2, (D, Df) => `  var sg = 0.0;
  var sgx = 0.0;
  for (var k = 0u; k < ${D}; k++) { let gk = in1[base + k] * in3[k]; sg += gk; sgx += gk * (in0[base + k] - mean) * rstd; }
  let a = sg / ${Df};
  let c = sgx / ${Df};
  for (var k = 0u; k < ${D}; k++) { let gk = in1[base + k] * in3[k]; out[base + k] = rstd * (gk - a - (in0[base + k] - mean) * rstd * c); }`);
}

function paramGradKernel(inputs: readonly ValueType[], out: ValueType, g: Geometry, limits: KernelLimits): KernelSource {
  const dims = new Dims();
  // channelSums over x as [R, D, 1]: channel = column, its elements the rows' (o = row * D + column)
  const geo = { n: g.r, c: g.d, s: 1 };
  const row = dims.div("o", "c", g.d, g.r * g.d);
  return channelSums(inputs, out, geo, limits, {
    setup: "",
    accumulate: (a1, a2) => `    let row = ${row};
    let dy = in1[o];
    ${a1} += dy;
    ${a2} += dy * (in0[o] - in2[2u * row]) * in2[2u * row + 1u];`,
    finish: `    let r0 = t1;
    let r1 = t2;`,
  }, dims);
}

// ---- reference kernels (the test oracle): float64, two passes -------------------------------

function rowStats(src: ArrayLike<number>, g: Geometry, r: number, eps: number): [number, number] {
  let total = 0;
  for (let k = 0; k < g.d; k++) total += src[r * g.d + k];
  const mean = total / g.d;
  let sq = 0;
  for (let k = 0; k < g.d; k++) sq += (src[r * g.d + k] - mean) ** 2;
  return [mean, 1 / Math.sqrt(sq / g.d + eps)];
}

// ---- the ops --------------------------------------------------------------------------------

export const layernormStats: OpDef<"layernorm_stats"> = {
  kind: "layernorm_stats",
  arity: 1,
  shape: ([x]) => {
    requireDType("layernorm_stats", [x], "f32");
    return { shape: statsShape(geometry("layernorm_stats", x)), dtype: "f32" };
  },
  // Only where something besides layernorm_apply reads the statistics (apply gives them no
  // cotangent): d mean / dx = 1 / D, d rstd / dx = -rstd^3 (x - mean) / D.
  vjp: ({ b, g, inputs: [x], out }) => {
    const d = x.shape[x.shape.length - 1];
    const perRow = [...x.shape.slice(0, -1), 1];
    const col = (v: typeof g, c: number) => b.reshape(b.sliceAxis(v, 1, c, c + 1), perRow);
    const rstd = col(out, 1);
    const cubed = b.mul(b.mul(rstd, rstd), rstd);
    return [b.add(b.div(col(g, 0), d), b.mul(b.mul(col(g, 1), cubed), b.mul(b.sub(x, col(out, 0)), -1 / d)))];
  },
  reference: ([x], { eps }, out, ctx) => {
    const g = geometry("layernorm_stats", x);
    const src = floats(x);
    const y = allocFloat(ctx, numel(out.shape));
    for (let r = 0; r < g.r; r++) [y[2 * r], y[2 * r + 1]] = rowStats(src, g, r, eps);
    return y;
  },
  wgsl: ({ inputs: [x], out, params: { eps }, limits }) => statsKernel(x, out, geometry("layernorm_stats", x), eps, limits),
};

export const layernormApply: OpDef<"layernorm_apply"> = {
  kind: "layernorm_apply",
  arity: 4,
  shape: (inputs) => {
    const op = "layernorm_apply";
    requireDType(op, inputs, "f32");
    const [x, stats, w, b] = inputs;
    const g = geometry(op, x);
    requireShape(op, "stats", stats, statsShape(g));
    requireShape(op, "weight", w, [g.d]);
    requireShape(op, "bias", b, [g.d]);
    return { shape: [...x.shape], dtype: "f32" };
  },
  vjp: ({ b, g: dy, inputs: [x, stats, w], wants }) => {
    const d = x.shape[x.shape.length - 1];
    const pg = wants[2] || wants[3] ? b.op("layernorm_param_grad", [x, dy, stats], {}) : null;
    return [
      wants[0] ? b.op("layernorm_input_grad", [x, dy, stats, w], {}) : null,
      null, // the statistics are x's: their part of dx is in layernorm_input_grad
      pg && wants[2] ? b.reshape(b.sliceAxis(pg, 0, 1, 2), [d]) : null,
      pg && wants[3] ? b.reshape(b.sliceAxis(pg, 0, 0, 1), [d]) : null,
    ];
  },
  reference: ([x, stats, w, bias], _p, out, ctx) => {
    const g = geometry("layernorm_apply", x);
    const [src, st, wt, bs] = [floats(x), floats(stats), floats(w), floats(bias)];
    const y = allocFloat(ctx, numel(out.shape));
    for (let r = 0; r < g.r; r++) {
      for (let k = 0; k < g.d; k++) y[r * g.d + k] = (src[r * g.d + k] - st[2 * r]) * st[2 * r + 1] * wt[k] + bs[k];
    }
    return y;
  },
  wgsl: ({ inputs, out, limits }) => {
    const g = geometry("layernorm_apply", inputs[0]);
    const total = g.r * g.d;
    const dims = flatDims(total);
    const row = dims.div("i", "d", g.d, total);
    return flatKernel(inputs, out, total, `  let row = ${row};
  let col = i - row * ${dims.u("d", g.d)};
  out[i] = (in0[i] - in1[2u * row]) * in1[2u * row + 1u] * in2[col] + in3[col];`, limits, { dims });
  },
};

export const layernormInputGrad: OpDef<"layernorm_input_grad"> = {
  kind: "layernorm_input_grad",
  arity: 4,
  shape: (inputs) => {
    const op = "layernorm_input_grad";
    requireDType(op, inputs, "f32");
    const [x, dy, stats, w] = inputs;
    const g = geometry(op, x);
    requireShape(op, "dy", dy, x.shape);
    requireShape(op, "stats", stats, statsShape(g));
    requireShape(op, "weight", w, [g.d]);
    return { shape: [...x.shape], dtype: "f32" };
  },
  vjp: noVjp("the step differentiates once"),
  reference: ([x, dy, stats, w], _p, out, ctx) => {
    const g = geometry("layernorm_input_grad", x);
    const [src, d, st, wt] = [floats(x), floats(dy), floats(stats), floats(w)];
    const y = allocFloat(ctx, numel(out.shape));
    for (let r = 0; r < g.r; r++) {
      const [mean, rstd] = [st[2 * r], st[2 * r + 1]];
      let [sg, sgx] = [0, 0];
      for (let k = 0; k < g.d; k++) {
        const gk = d[r * g.d + k] * wt[k];
        sg += gk;
        sgx += gk * (src[r * g.d + k] - mean) * rstd;
      }
      for (let k = 0; k < g.d; k++) {
        const o = r * g.d + k;
        y[o] = rstd * (d[o] * wt[k] - sg / g.d - (src[o] - mean) * rstd * (sgx / g.d));
      }
    }
    return y;
  },
  wgsl: ({ inputs, out, limits }) => inputGradKernel(inputs, out, geometry("layernorm_input_grad", inputs[0]), limits),
};

export const layernormParamGrad: OpDef<"layernorm_param_grad"> = {
  kind: "layernorm_param_grad",
  arity: 3,
  shape: (inputs) => {
    const op = "layernorm_param_grad";
    requireDType(op, inputs, "f32");
    const [x, dy, stats] = inputs;
    const g = geometry(op, x);
    requireShape(op, "dy", dy, x.shape);
    requireShape(op, "stats", stats, statsShape(g));
    return { shape: [2, g.d], dtype: "f32" };
  },
  vjp: noVjp("the step differentiates once"),
  reference: ([x, dy, stats], _p, out, ctx) => {
    const g = geometry("layernorm_param_grad", x);
    const [src, d, st] = [floats(x), floats(dy), floats(stats)];
    const y = allocFloat(ctx, numel(out.shape));
    for (let r = 0; r < g.r; r++) {
      for (let k = 0; k < g.d; k++) {
        const o = r * g.d + k;
        y[k] += d[o];
        y[g.d + k] += d[o] * (src[o] - st[2 * r]) * st[2 * r + 1];
      }
    }
    return y;
  },
  wgsl: ({ inputs, out, limits }) => paramGradKernel(inputs, out, geometry("layernorm_param_grad", inputs[0]), limits),
};

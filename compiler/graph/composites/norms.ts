// Normalization layers from primitives, with PyTorch's semantics.
// Variances are biased (divide by n) when normalizing, as torch does.

import type { GraphBuilder } from "../builder.js";
import { normalizeAxis } from "../../ir/shape.js";
import type { Value } from "../../ir/value.js";

export interface BatchNormOptions {
  /** Batch statistics and running-stat updates (true) or running statistics (false). */
  readonly training: boolean;
  readonly momentum?: number;
  readonly eps?: number;
  readonly channelAxis?: number;
  /**
   * Training mode as the fused ops of ops/batchnorm.ts (one statistics pass, one apply pass,
   * two passes back) rather than means, subtractions and reductions. Needs channels on axis 1,
   * a weight and a bias; otherwise the decomposed form is built.
   */
  readonly fused?: boolean;
}

export interface BatchNormResult {
  readonly y: Value;
  /** Updated running stats ([C]); present in training mode only. */
  readonly runningMean?: Value;
  readonly runningVar?: Value;
}

/** `v` [C] shaped to broadcast against x along `axis`: [1, C, 1, 1] for NCHW. */
function alongAxis(b: GraphBuilder, v: Value, rank: number, axis: number): Value {
  return b.reshape(v, Array.from({ length: rank }, (_, i) => (i === axis ? v.shape[0] : 1)));
}

/** weight * xhat + bias, each optional, per channel along `axis`. */
function affine(b: GraphBuilder, xhat: Value, weight: Value | null, bias: Value | null, axis: number): Value {
  const scaled = weight ? b.mul(xhat, alongAxis(b, weight, xhat.rank, axis)) : xhat;
  return bias ? b.add(scaled, alongAxis(b, bias, xhat.rank, axis)) : scaled;
}

/**
 * nn.BatchNorm2d / BatchNorm1d over x [N, C, H, W] or [N, C] (channels on `channelAxis`).
 * Training: normalizes with the batch's mean and biased variance and returns the running
 * stats updated as torch does: (1 - m) * running + m * stat, using the unbiased variance.
 * Eval: normalizes with the running stats.
 */
export function batchNorm(
  b: GraphBuilder,
  x: Value,
  weight: Value | null,
  bias: Value | null,
  runningMean: Value,
  runningVar: Value,
  opts: BatchNormOptions,
): BatchNormResult {
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const axis = normalizeAxis(opts.channelAxis ?? 1, x.rank);
  if (axis === null) throw new Error(`batchNorm: channel axis ${opts.channelAxis} is out of range for rank ${x.rank}`);
  if (!opts.training) {
    const mean = alongAxis(b, runningMean, x.rank, axis);
    const invStd = b.rsqrt(b.add(alongAxis(b, runningVar, x.rank, axis), eps));
    return { y: affine(b, b.mul(b.sub(x, mean), invStd), weight, bias, axis) };
  }
  const axes = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const n = axes.reduce((acc, i) => acc * x.shape[i], 1);
  const update = (running: Value, stat: Value): Value => b.add(b.mul(running, 1 - momentum), b.mul(stat, momentum));
  const c = [x.shape[axis]];
  if (opts.fused && axis === 1 && weight && bias) {
    const stats = b.op("batchnorm_stats", [x], {}); // [2, C]: mean, biased variance
    const y = b.op("batchnorm_apply", [x, stats, weight, bias], { eps });
    const unbiased = b.mul(b.reshape(b.sliceAxis(stats, 0, 1, 2), c), n / Math.max(n - 1, 1));
    return { y, runningMean: update(runningMean, b.reshape(b.sliceAxis(stats, 0, 0, 1), c)), runningVar: update(runningVar, unbiased) };
  }
  const mean = b.mean(x, axes, true); // [1, C, 1, 1]
  const centered = b.sub(x, mean);
  const variance = b.mean(b.square(centered), axes, true); // biased
  const y = affine(b, b.mul(centered, b.rsqrt(b.add(variance, eps))), weight, bias, axis);
  const unbiased = b.mul(b.reshape(variance, c), n / Math.max(n - 1, 1));
  return { y, runningMean: update(runningMean, b.reshape(mean, c)), runningVar: update(runningVar, unbiased) };
}

/** nn.GroupNorm: x [N, C, ...] in `groups` groups of C/groups channels; weight, bias [C]. */
export function groupNorm(b: GraphBuilder, x: Value, groups: number, weight: Value | null, bias: Value | null, eps = 1e-5): Value {
  const [n, c] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  const grouped = b.reshape(x, [n, groups, -1]); // [N, G, C/G * spatial]
  const mean = b.mean(grouped, 2, true);
  const centered = b.sub(grouped, mean);
  const variance = b.mean(b.square(centered), 2, true);
  const xhat = b.reshape(b.mul(centered, b.rsqrt(b.add(variance, eps))), x.shape);
  return affine(b, xhat, weight, bias, 1);
}

/**
 * nn.LayerNorm over the last axis: x [..., D], weight, bias [D]. `fused`: as the ops of
 * ops/layernorm.ts (statistics, apply, and their backward), where there are a weight and a bias.
 */
export function layerNorm(b: GraphBuilder, x: Value, weight: Value | null, bias: Value | null, eps = 1e-5, fused = false): Value {
  if (fused && weight && bias) return b.op("layernorm_apply", [x, b.op("layernorm_stats", [x], { eps }), weight, bias], {});
  const mean = b.mean(x, -1, true);
  const centered = b.sub(x, mean);
  const variance = b.mean(b.square(centered), -1, true);
  const xhat = b.mul(centered, b.rsqrt(b.add(variance, eps)));
  const scaled = weight ? b.mul(xhat, weight) : xhat;
  return bias ? b.add(scaled, bias) : scaled;
}

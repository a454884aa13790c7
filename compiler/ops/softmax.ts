// Softmax over the last axis: x [..., S] -> [..., S], each row summing to 1.
// VJP: dx = y * (g - sum(g * y, last, keepdims)).
// Kernels: rows [S] shorter than WORKGROUP_REDUCTION_MIN take one invocation each: the row's
// max, then the sum of exp(x - max), stored in the output and divided in place. Longer rows
// take one invocation each on a software adapter too (softmaxLoop), and one workgroup each on
// a GPU: the same passes with both reductions folded in shared memory.

import { formatType, numel } from "../ir/shape.js";
import { bindings, flatKernel, grid, opaqueBound, reductionThreads, treeReduce, WORKGROUP_REDUCTION_MIN, workgroupMain } from "../wgsl/wgsl.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import type { ValueType } from "../ir/types.js";
import { allocFloat, check, floats, requireDType, type OpDef } from "./def.js";

/**
 * One invocation per row, in two reads of it: an online max and sum (the sum rescaled by
 * exp(old max - new max) <= 1 whenever the max grows, so nothing overflows), then
 * exp(x - max) / sum written once. On lavapipe (a workgroup per CPU thread, invocations as 8
 * SIMD lanes, each barrier a switch between coroutines) this beat one workgroup per row with
 * shared-memory trees 18x at [8 * 4 * 256, 256] (235 -> 13 ms) and 20x at [8 * 8 * 64, 64]
 * (36 -> 1.7 ms); a third read instead of the online rescale was 15% slower, and 8-lane
 * workgroups per row (coalesced loads, one barrier per reduction) 1.3-2x slower.
 */
function softmaxLoop(x: ValueType, out: ValueType, rows: number, s: number, limits: KernelLimits): KernelSource {
  return flatKernel([x], out, rows, `  let row = i * ${s}u;
  let s = ${opaqueBound(s)};
  var rowMax = in0[row];
  var total = 0.0;
  for (var j = 0u; j < s; j++) {
    let v = in0[row + j];
    let m = max(rowMax, v);
    total = total * exp(rowMax - m) + exp(v - m);
    rowMax = m;
  }
  let inv = 1.0 / total;
  for (var j = 0u; j < s; j++) { out[row + j] = exp(in0[row + j] - rowMax) * inv; }`, limits, { elements: 1 });
}

function softmaxKernel(x: ValueType, out: ValueType, limits: KernelLimits): KernelSource {
  const s = x.shape[x.shape.length - 1];
  const rows = numel(x.shape) / s;
  if (s < WORKGROUP_REDUCTION_MIN) {
    // three passes, one exp per element: at rows of 16 ([32 * 32, 16, 16]) 1.35 ms against
    // 1.72 ms for softmaxLoop's online rescale, which pays off only on longer rows
    return flatKernel([x], out, rows, `  let row = i * ${s}u;
  let s = ${opaqueBound(s)};
  var rowMax = in0[row];
  for (var j = 1u; j < s; j++) { rowMax = max(rowMax, in0[row + j]); }
  var total = 0.0;
  for (var j = 0u; j < s; j++) {
    let e = exp(in0[row + j] - rowMax);
    out[row + j] = e;
    total += e;
  }
  for (var j = 0u; j < s; j++) { out[row + j] = out[row + j] / total; }`, limits, { elements: 1 });
  }
  if (!limits.hardware) return softmaxLoop(x, out, rows, s, limits);
  const wg = reductionThreads(s);
  return {
    code: `${bindings([x], out)}
var<workgroup> partial: array<f32, ${wg}>;
${workgroupMain(rows, wg)}
  let row = i * ${s}u;
  var m = in0[row];
  for (var j = lid; j < ${s}u; j += ${wg}u) { m = max(m, in0[row + j]); }
  partial[lid] = m;
${treeReduce("partial", wg, (a, b) => `max(${a}, ${b})`)}
  let rowMax = partial[0];
  workgroupBarrier(); // every thread has read the max before partial is reused
  var sum = 0.0;
  for (var j = lid; j < ${s}u; j += ${wg}u) {
    let e = exp(in0[row + j] - rowMax);
    out[row + j] = e;
    sum += e;
  }
  partial[lid] = sum;
${treeReduce("partial", wg, (a, b) => `${a} + ${b}`)}
  let total = partial[0];
  for (var j = lid; j < ${s}u; j += ${wg}u) { out[row + j] = out[row + j] / total; }
}`,
    workgroups: grid(rows, limits, 1),
  };
}

export const softmax: OpDef<"softmax"> = {
  kind: "softmax",
  arity: 1,
  shape: ([x]) => {
    requireDType("softmax", [x], "f32");
    check("softmax", x.shape.length >= 1, () => `needs rank >= 1, got ${formatType(x)}`);
    return x;
  },
  vjp: ({ b, g, out: y }) => [b.mul(y, b.sub(g, b.sum(b.mul(g, y), -1, true)))],
  reference: ([x], _p, out, ctx) => {
    const src = floats(x);
    const s = out.shape[out.shape.length - 1];
    const dst = allocFloat(ctx, src.length);
    const row = new Float64Array(s);
    for (let o = 0; o < src.length; o += s) {
      let max = -Infinity;
      for (let j = 0; j < s; j++) max = Math.max(max, src[o + j]);
      let total = 0;
      for (let j = 0; j < s; j++) total += row[j] = Math.exp(src[o + j] - max); // shift by max: no overflow
      for (let j = 0; j < s; j++) dst[o + j] = row[j] / total;
    }
    return dst;
  },
  wgsl: ({ inputs: [x], out, limits }) => softmaxKernel(x, out, limits),
};

// Slice and zero-pad: each other's transpose.
//   slice x [d_i] -> [ends_i - starts_i]      (step 1)
//   pad   x [d_i] -> [before_i + d_i + after_i] (zeros)
// Kernels: one invocation per output element; slice reads x through its strides from the
// start corner, pad reads x where every coordinate is inside [before_i, before_i + d_i).

import { formatShape, formatType, numel, stridesOf } from "../ir/shape.js";
import { check, type OpDef } from "./def.js";
import { stridedOffsets } from "./strided.js";
import { gatherElements } from "./movement.js";
import { flatDims, flatKernel, stridedCopy, zeroOf } from "../wgsl/wgsl.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import type { ValueType } from "../ir/types.js";

export const slice: OpDef<"slice"> = {
  kind: "slice",
  arity: 1,
  shape: ([x], { starts, ends }) => {
    const r = x.shape.length;
    check("slice", starts.length === r && ends.length === r, () => `needs ${r} starts and ends for ${formatType(x)}, got ${formatShape(starts)} and ${formatShape(ends)}`);
    x.shape.forEach((d, i) => {
      const ok = Number.isInteger(starts[i]) && Number.isInteger(ends[i]) && starts[i] >= 0 && starts[i] <= ends[i] && ends[i] <= d;
      check("slice", ok, () => `axis ${i}: [${starts[i]}, ${ends[i]}) is not inside [0, ${d}) of ${formatType(x)}`);
    });
    return { shape: ends.map((e, i) => e - starts[i]), dtype: x.dtype };
  },
  vjp: ({ b, g, inputs: [x], params: { starts, ends } }) => [
    b.pad(g, starts, ends.map((e, i) => x.shape[i] - e)),
  ],
  reference: ([x], { starts }, out, ctx) => {
    const strides = stridesOf(x.shape);
    const base = starts.reduce((acc, s, i) => acc + s * strides[i], 0);
    return gatherElements(x.data, out.shape, strides, base, out.dtype, ctx);
  },
  wgsl: ({ inputs: [x], out, params: { starts }, limits }) => {
    const strides = stridesOf(x.shape);
    const base = starts.reduce((acc, s, i) => acc + s * strides[i], 0);
    return stridedCopy(x, out, strides, base, limits);
  },
};

function padKernel(x: ValueType, out: ValueType, before: readonly number[], limits: KernelLimits): KernelSource {
  const n = numel(out.shape);
  const xs = stridesOf(x.shape);
  // innermost axis first; padded axes test their coordinate, others only add to the offset.
  // Sizes are in the uniform (dims.ts): which axes are padded shapes the code, not by how much.
  const dims = flatDims(n);
  const axes: string[] = [];
  let bound = n;
  for (let k = out.shape.length - 1; k >= 0; k--) {
    const d = out.shape[k];
    if (d === 1) continue;
    const inside = x.shape[k] === d ? "" : ` inside = inside && c >= ${dims.u(`lo${k}`, before[k])} && c < ${dims.u(`hi${k}`, before[k] + x.shape[k])};`;
    const offset = x.shape[k] === 1 ? "" : ` ia += ${dims.mul(`(c - ${dims.u(`lo${k}`, before[k])})`, `s${k}`, xs[k])};`;
    axes.push(`  { let q = ${dims.div("rem", `d${k}`, d, bound)}; let c = ${dims.mod("rem", `d${k}`, d, bound, "q")}; rem = q;${inside}${offset} }`);
    bound = Math.ceil(bound / d);
  }
  return flatKernel([x], out, n, `  var rem = i;
  var ia = 0u; // wraps outside x, where it is not read
  var inside = true;
${axes.join("\n")}
  var v = ${zeroOf(out)};
  if (inside) { v = in0[ia]; }
  out[i] = v;`, limits, { dims });
}

export const pad: OpDef<"pad"> = {
  kind: "pad",
  arity: 1,
  shape: ([x], { before, after }) => {
    const r = x.shape.length;
    check("pad", before.length === r && after.length === r, () => `needs ${r} before/after widths for ${formatType(x)}, got ${formatShape(before)} and ${formatShape(after)}`);
    const ok = [...before, ...after].every((p) => Number.isInteger(p) && p >= 0);
    check("pad", ok, () => `widths must be non-negative integers, got before ${formatShape(before)} after ${formatShape(after)}`);
    return { shape: x.shape.map((d, i) => before[i] + d + after[i]), dtype: x.dtype };
  },
  vjp: ({ b, g, inputs: [x], params: { before } }) => [
    b.slice(g, before, before.map((p, i) => p + x.shape[i])),
  ],
  reference: ([x], { before }, out, ctx) => {
    const dst = ctx.alloc(out.dtype, numel(out.shape)); // zero-initialized
    const strides = stridesOf(out.shape);
    const base = before.reduce((acc, p, i) => acc + p * strides[i], 0);
    const where = stridedOffsets(x.shape, strides, base);
    for (let i = 0; i < where.length; i++) dst[where[i]] = x.data[i];
    return dst;
  },
  wgsl: ({ inputs: [x], out, params: { before }, limits }) => padKernel(x, out, before, limits),
};

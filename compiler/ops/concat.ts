// Concatenation along one axis: xs[i] [.., d_i, ..] -> [.., sum d_i, ..]; its VJP slices
// the cotangent back into the pieces.
// Kernel: one invocation per output element [outer, c, inner] (c along the axis) reads the
// input whose range of the axis holds c; every input binding is read by one branch.

import { formatType, numel } from "../ir/shape.js";
import { check, type OpDef } from "./def.js";
import { flatDims, flatKernel } from "../wgsl/wgsl.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import type { ValueType } from "../ir/types.js";

function concatKernel(xs: readonly ValueType[], out: ValueType, axis: number, limits: KernelLimits): KernelSource {
  const n = numel(out.shape);
  const inner = numel(out.shape.slice(axis + 1));
  const total = out.shape[axis];
  const dims = flatDims(n);
  let start = 0;
  const branches = xs.map((x, k) => {
    const d = x.shape[axis];
    const read = `out[i] = in${k}[${dims.mul(`(o * ${dims.u(`d${k}`, d)} + c - ${dims.u(`start${k}`, start)})`, "inner", inner)} + j];`;
    start += d;
    return k === xs.length - 1 ? `{ ${read} }` : `if (c < ${dims.u(`end${k}`, start)}) { ${read} }`;
  });
  return flatKernel(xs, out, n, `  let q = ${dims.div("i", "inner", inner, n)};
  let j = ${dims.mod("i", "inner", inner, n, "q")};
  let o = ${dims.div("q", "total", total, Math.ceil(n / inner))};
  let c = ${dims.mod("q", "total", total, Math.ceil(n / inner), "o")};
  ${branches.join(" else ")}`, limits, { dims });
}

export const concat: OpDef<"concat"> = {
  kind: "concat",
  arity: "variadic",
  shape: (xs, { axis }) => {
    const first = xs[0];
    const rank = first.shape.length;
    check("concat", Number.isInteger(axis) && axis >= 0 && axis < rank, () => `axis ${axis} is out of range for ${formatType(first)}`);
    let total = 0;
    xs.forEach((x, i) => {
      check("concat", x.dtype === first.dtype, () => `input ${i} is ${formatType(x)} but input 0 is ${formatType(first)}`);
      const same = x.shape.length === rank && x.shape.every((d, j) => j === axis || d === first.shape[j]);
      check("concat", same, () => `input ${i} ${formatType(x)} must match input 0 ${formatType(first)} on every axis but ${axis}`);
      total += x.shape[axis];
    });
    return { shape: first.shape.map((d, j) => (j === axis ? total : d)), dtype: first.dtype };
  },
  vjp: ({ b, g, inputs, params: { axis }, wants }) => {
    let start = 0;
    return inputs.map((x, i) => {
      const end = start + x.shape[axis];
      const piece = wants[i] ? b.sliceAxis(g, axis, start, end) : null;
      start = end;
      return piece;
    });
  },
  reference: (xs, { axis }, out, ctx) => {
    const dst = ctx.alloc(out.dtype, numel(out.shape));
    const outer = numel(out.shape.slice(0, axis));
    const inner = numel(out.shape.slice(axis + 1));
    const rowOut = out.shape[axis] * inner;
    let offset = 0;
    for (const x of xs) {
      const rowIn = x.shape[axis] * inner;
      for (let o = 0; o < outer; o++) {
        dst.set(x.data.subarray(o * rowIn, (o + 1) * rowIn), o * rowOut + offset);
      }
      offset += rowIn;
    }
    return dst;
  },
  wgsl: ({ inputs, out, params: { axis }, limits }) => concatKernel(inputs, out, axis, limits),
};

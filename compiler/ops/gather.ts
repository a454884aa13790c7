// Embedding lookup and its transpose.
//   gather       table [V, D], idx i32 [N] -> [N, D]      out[n] = table[idx[n]]
//   scatter_add  g [N, D],     idx i32 [N] -> [rows, D]   out[idx[n]] += g[n]
// Kernels: one invocation per output element. gather clamps indices to [0, V - 1] (the
// reference rejects them; a kernel must not read outside the table). WGSL has no f32 atomics,
// so scatter_add's element [r, d] loops over all N indices and sums where idx[n] == r, in
// order n = 0..N-1: deterministic, and cheap for the few thousand indices of an embedding.

import { formatType } from "../ir/shape.js";
import { allocFloat, check, floats, ints, requireRank, type OpDef } from "./def.js";
import { flatKernel, opaqueBound } from "../wgsl/wgsl.js";

function checkIndices(op: string, idx: Int32Array, rows: number): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= rows) throw new RangeError(`${op}: index ${idx[i]} at position ${i} is out of range for ${rows} rows`);
  }
}

export const gather: OpDef<"gather"> = {
  kind: "gather",
  arity: 2,
  shape: ([table, idx]) => {
    requireRank("gather", "table [V, D]", table, 2);
    requireRank("gather", "indices [N]", idx, 1);
    check("gather", table.dtype === "f32", () => `table must be f32, got ${formatType(table)}`);
    check("gather", idx.dtype === "i32", () => `indices must be i32, got ${formatType(idx)}`);
    return { shape: [idx.shape[0], table.shape[1]], dtype: "f32" };
  },
  vjp: ({ b, g, inputs: [table, idx] }) => [b.scatterAdd(g, idx, table.shape[0]), null],
  reference: ([table, idx], _p, out, ctx) => {
    const [rows, d] = table.shape;
    const ix = ints(idx);
    checkIndices("gather", ix, rows);
    const src = floats(table);
    const dst = allocFloat(ctx, out.shape[0] * d);
    for (let n = 0; n < ix.length; n++) dst.set(src.subarray(ix[n] * d, (ix[n] + 1) * d), n * d);
    return dst;
  },
  wgsl: ({ inputs: [table, idx], out, limits }) => {
    const [v, d] = table.shape;
    const n = out.shape[0] * d;
    return flatKernel([table, idx], out, n, `  let row = u32(clamp(in1[i / ${d}u], 0i, ${v - 1}i));
  out[i] = in0[row * ${d}u + i % ${d}u];`, limits);
  },
};

export const scatterAdd: OpDef<"scatter_add"> = {
  kind: "scatter_add",
  arity: 2,
  shape: ([g, idx], { rows }) => {
    requireRank("scatter_add", "values [N, D]", g, 2);
    requireRank("scatter_add", "indices [N]", idx, 1);
    check("scatter_add", g.dtype === "f32" && idx.dtype === "i32", () => `needs f32 values and i32 indices, got ${formatType(g)} and ${formatType(idx)}`);
    check("scatter_add", g.shape[0] === idx.shape[0], () => `${g.shape[0]} rows of values but ${idx.shape[0]} indices`);
    check("scatter_add", Number.isInteger(rows) && rows >= 1, () => `rows must be a positive integer, got ${rows}`);
    return { shape: [rows, g.shape[1]], dtype: "f32" };
  },
  vjp: ({ b, g: u, inputs: [, idx] }) => [b.gather(u, idx), null],
  reference: ([g, idx], { rows }, _out, ctx) => {
    const d = g.shape[1];
    const ix = ints(idx);
    checkIndices("scatter_add", ix, rows);
    const src = floats(g);
    const acc = new Float64Array(rows * d);
    for (let n = 0; n < ix.length; n++) {
      for (let j = 0; j < d; j++) acc[ix[n] * d + j] += src[n * d + j];
    }
    const dst = allocFloat(ctx, rows * d);
    dst.set(acc);
    return dst;
  },
  wgsl: ({ inputs: [g, idx], out, params: { rows }, limits }) => {
    const [count, d] = g.shape;
    const n = rows * d;
    return flatKernel([g, idx], out, n, `  let r = i32(i / ${d}u);
  let col = i % ${d}u;
  var acc = 0.0;
  for (var k = 0u; k < ${opaqueBound(count)}; k++) {
    if (in1[k] == r) { acc += in0[k * ${d}u + col]; }
  }
  out[i] = acc;`, limits, { elements: 1 });
  },
};

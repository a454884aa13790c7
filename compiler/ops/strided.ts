// Index helpers for the reference kernels: most movement and broadcasting reduces to
// "read input element at base + sum(idx[d] * strides[d]) for each output index" (the strides
// of a broadcast read are ir/shape.ts's broadcastStrides, shared with the WGSL templates).

import { numel } from "../ir/shape.js";
import type { Shape } from "../ir/types.js";

/** Offsets, in row-major order over `shape`, of base + sum(idx[d] * strides[d]). */
export function stridedOffsets(shape: Shape, strides: readonly number[], base = 0): Int32Array {
  const size = numel(shape);
  const out = new Int32Array(size);
  if (size === 0) return out;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let i = 0; i < size; i++) {
    out[i] = off;
    // odometer: bump the last axis, carry into earlier ones
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * A walk over `shape` in row-major order as `count` runs of `len` elements: operand k's element
 * j of run r is at starts[k][r] + j * inner[k]. Size-1 axes are dropped and adjacent axes that
 * every operand walks contiguously are merged first, so broadcasting ([N,C,H,W] with [1,C,1,1])
 * and reductions get long, allocation-light inner loops instead of one offset per element.
 */
export interface RunPlan {
  readonly len: number;
  readonly count: number;
  readonly inner: readonly number[];
  readonly starts: readonly Int32Array[];
}

export function runPlan(shape: Shape, strides: readonly (readonly number[])[]): RunPlan {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = dims.length - 1;
    // merge into the previous (outer) axis when every operand steps through both as one
    if (last >= 0 && strides.every((s, k) => st[k][last] === s[i] * d)) {
      dims[last] *= d;
      strides.forEach((s, k) => (st[k][last] = s[i]));
      return;
    }
    dims.push(d);
    strides.forEach((s, k) => st[k].push(s[i]));
  });
  if (dims.length === 0) return { len: 1, count: 1, inner: strides.map(() => 0), starts: strides.map(() => Int32Array.of(0)) };
  const len = dims[dims.length - 1];
  const outer = dims.slice(0, -1);
  return {
    len,
    count: outer.reduce((a, b) => a * b, 1),
    inner: st.map((s) => s[s.length - 1]),
    starts: st.map((s) => stridedOffsets(outer, s.slice(0, -1))),
  };
}

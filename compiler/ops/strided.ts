// Index helpers for the reference kernels: most movement and broadcasting reduces to
// "read input element at base + sum(idx[d] * strides[d]) for each output index".

import { stridesOf } from "../graph/shape.js";
import type { Shape } from "../graph/types.js";

/** Offsets, in row-major order over `shape`, of base + sum(idx[d] * strides[d]). */
export function stridedOffsets(shape: Shape, strides: readonly number[], base = 0): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
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

/** Strides that read a tensor of shape `from` as if broadcast to `to` (0 on broadcast axes). */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const own = stridesOf(from);
  const lead = to.length - from.length;
  return to.map((_, i) => (i < lead || from[i - lead] === 1 ? 0 : own[i - lead]));
}

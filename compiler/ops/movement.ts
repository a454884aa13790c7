// Layout primitives that move data without arithmetic (any dtype):
//   reshape      x [..] -> shape (same element count, row-major order kept)
//   transpose    x [d0..dr] -> [d_perm[0] .. d_perm[r]]
//   broadcast_to x [..] -> shape (NumPy rules; size-1 and missing leading dims repeat)
// Reference kernels never write their inputs, so reshape can share its input's data; on the
// device reshape is an alias too (never dispatched). transpose and broadcast_to are copies
// that read the input through strides (0 on broadcast axes).

import { broadcastStrides, broadcastsTo, formatShape, formatType, isValidDim, numel, stridesOf } from "../ir/shape.js";
import type { TensorData } from "../ir/tensor.js";
import type { Shape } from "../ir/types.js";
import { check, type OpDef, type RefContext } from "./def.js";
import { runPlan } from "./strided.js";
import { stridedCopy } from "../wgsl/wgsl.js";

/** dst[i] = src[base + sum(idx[d] * strides[d])] for each index i of `shape`, in row-major order. */
export function gatherElements(src: TensorData, shape: Shape, strides: readonly number[], base: number, dtype: "f32" | "i32", ctx: RefContext): TensorData {
  const dst = ctx.alloc(dtype, numel(shape));
  const { len, count, inner: [step], starts: [at] } = runPlan(shape, [strides]);
  for (let r = 0, o = 0; r < count; r++) for (let j = 0, i = base + at[r]; j < len; j++, i += step) dst[o++] = src[i];
  return dst;
}

export const reshape: OpDef<"reshape"> = {
  kind: "reshape",
  arity: 1,
  shape: ([x], { shape }) => {
    check("reshape", shape.every(isValidDim), () => `invalid target shape ${formatShape(shape)}`);
    check("reshape", numel(shape) === numel(x.shape), () => `cannot reshape ${formatType(x)} (${numel(x.shape)} elements) to ${formatShape(shape)} (${numel(shape)} elements)`);
    return { shape, dtype: x.dtype };
  },
  vjp: ({ b, g, inputs: [x] }) => [b.reshape(g, x.shape)],
  reference: ([x]) => x.data,
  wgsl: null,
};

export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const transpose: OpDef<"transpose"> = {
  kind: "transpose",
  arity: 1,
  shape: ([x], { perm }) => {
    const r = x.shape.length;
    const isPerm = perm.length === r && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    check("transpose", isPerm, () => `perm ${formatShape(perm)} is not a permutation of the ${r} axes of ${formatType(x)}`);
    return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  },
  vjp: ({ b, g, params }) => [b.transpose(g, invertPerm(params.perm))],
  reference: ([x], { perm }, out, ctx) => {
    const xs = stridesOf(x.shape);
    return gatherElements(x.data, out.shape, perm.map((p) => xs[p]), 0, out.dtype, ctx);
  },
  wgsl: ({ inputs: [x], out, params: { perm }, limits }) => {
    const xs = stridesOf(x.shape);
    return stridedCopy(x, out, perm.map((p) => xs[p]), 0, limits);
  },
};

export const broadcastTo: OpDef<"broadcast_to"> = {
  kind: "broadcast_to",
  arity: 1,
  shape: ([x], { shape }) => {
    check("broadcast_to", broadcastsTo(x.shape, shape), () => `${formatType(x)} does not broadcast to ${formatShape(shape)}`);
    return { shape, dtype: x.dtype };
  },
  // the cotangent has the output shape; the autodiff driver sums it back to x's shape
  vjp: ({ g }) => [g],
  reference: ([x], { shape }, out, ctx) =>
    gatherElements(x.data, shape, broadcastStrides(x.shape, shape), 0, out.dtype, ctx),
  wgsl: ({ inputs: [x], out, limits }) => stridedCopy(x, out, broadcastStrides(x.shape, out.shape), 0, limits),
};

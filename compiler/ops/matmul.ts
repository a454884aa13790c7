// Batched matrix product: a [..., M, K] @ b [..., K, N] -> [..., M, N]. Leading (batch)
// dims broadcast as NumPy's matmul does. Bilinear: each cotangent is one more matmul.

import { broadcastShapes, broadcastStrides, formatType, numel } from "../ir/shape.js";
import { allocFloat, check, floats, requireDType, type OpDef } from "./def.js";
import { stridedOffsets } from "./strided.js";
import type { KernelRequest, KernelSource } from "../wgsl/kernel.js";
import { gemmBindings, gemmKernel, type GemmTiles } from "../wgsl/gemm.js";
import { bindings } from "../wgsl/wgsl.js";
import { Dims } from "../wgsl/dims.js";

/**
 * The tiled kernel (compiler/wgsl/gemm.ts) with A and B read in place: batch t of the
 * output reads a at aOff(t) + m*K + k and b at bOff(t) + k*N + n, offsets 0 along broadcast
 * batch axes. An operand bound `transposed` is stored [..., K, M] (A) or [..., N, K] (B), the
 * input of a transpose the schedule folded away: it is read at k*M + m (n*K + k) instead.
 * `transposedOut`: the result is stored [..., N, M], a transpose of it folded in.
 */
export function matmulKernel({ inputs: [a, b], out, limits, epilogue, transposed, transposedOut }: KernelRequest<"matmul">, tiles?: GemmTiles): KernelSource {
  const [ta, tb] = [transposed?.[0] ?? false, transposed?.[1] ?? false];
  const last2 = (t: { shape: readonly number[] }, swap: boolean) => (swap ? t.shape.slice(-2).reverse() : t.shape.slice(-2));
  const [m, k] = last2(a, ta);
  const n = last2(b, tb)[1];
  const batchShape = out.shape.slice(0, -2);
  const batch = numel(batchShape);
  const strides = [
    broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * m * k),
    broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * k * n),
  ];
  const dims = new Dims();
  // which batch axes exist and which operand walks them shapes the code; their sizes are dims
  const decode: string[] = [];
  batchShape.forEach((size, axis) => {
    if (size === 1) return;
    const [sa, sb] = [strides[0][axis], strides[1][axis]];
    decode.push(`  { let c = rem % ${dims.u(`b${axis}`, size)}; rem = rem / dims.b${axis};${sa ? ` ia += c * ${dims.u(`sa${axis}`, sa)};` : ""}${sb ? ` ib += c * ${dims.u(`sb${axis}`, sb)};` : ""} }`);
  });
  const prelude = `${bindings([a, b, ...(epilogue?.inputs ?? [])], out)}

// element offsets of batch i's A [M, K] and B [K, N]
fn batchOffsets(i: u32) -> vec2<u32> {
  var ia = 0u;
  var ib = 0u;
  var rem = i;
${decode.reverse().join("\n")}
  return vec2<u32>(ia, ib);
}`;
  return gemmKernel(
    {
      op: "matmul", batch, m, n, k, prelude, ...gemmBindings(2, dims, epilogue),
      a: ta
        ? { fast: "x", state: "u32", col: "  return batchOffsets(b).x + x;", at: `  return in0[s + k * ${dims.u("m", m)}];` }
        : { fast: "k", state: "u32", col: `  return batchOffsets(b).x + x * ${dims.u("k", k)};`, at: "  return in0[s + k];" },
      b: tb
        ? { fast: "k", state: "u32", col: `  return batchOffsets(b).y + x * ${dims.u("k", k)};`, at: "  return in1[s + k];" }
        : { fast: "x", state: "u32", col: "  return batchOffsets(b).y + x;", at: `  return in1[s + k * ${dims.u("n", n)}];` },
      store: transposedOut ? `  write((b * ${dims.u("n", n)} + n) * ${dims.u("m", m)} + m, v);` : `  write((b * ${dims.u("m", m)} + m) * ${dims.u("n", n)} + n, v);`,
    },
    limits,
    tiles,
  );
}

export const matmul: OpDef<"matmul"> = {
  kind: "matmul",
  arity: 2,
  shape: ([a, b]) => {
    requireDType("matmul", [a, b], "f32");
    check("matmul", a.shape.length >= 2 && b.shape.length >= 2, () => `operands need rank >= 2, got ${formatType(a)} @ ${formatType(b)}`);
    const k = a.shape[a.shape.length - 1];
    check("matmul", k === b.shape[b.shape.length - 2], () => `contraction dims differ: ${formatType(a)} @ ${formatType(b)} (K=${k} vs ${b.shape[b.shape.length - 2]})`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    check("matmul", batch !== null, () => `batch dims do not broadcast: ${formatType(a)} @ ${formatType(b)}`);
    return { shape: [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]], dtype: "f32" };
  },
  // dA = g @ B^T, dB = A^T @ g (at the broadcast batch shape; the driver sums it back)
  vjp: ({ b, g, inputs: [x, y], wants }) => [
    wants[0] ? b.matmul(g, b.transposeLast2(y)) : null,
    wants[1] ? b.matmul(b.transposeLast2(x), g) : null,
  ],
  reference: ([a, b], _p, out, ctx) => {
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    const batch = out.shape.slice(0, -2);
    const aBase = stridedOffsets(batch, broadcastStrides(a.shape.slice(0, -2), batch));
    const bBase = stridedOffsets(batch, broadcastStrides(b.shape.slice(0, -2), batch));
    const x = floats(a);
    const y = floats(b);
    const z = allocFloat(ctx, numel(out.shape));
    const row = new Float64Array(n);
    for (let t = 0; t < aBase.length; t++) {
      const ao = aBase[t] * m * k;
      const bo = bBase[t] * k * n;
      for (let i = 0; i < m; i++) {
        row.fill(0);
        // i-k-j order: the inner loop walks rows of b and the accumulator contiguously
        for (let p = 0; p < k; p++) {
          const av = x[ao + i * k + p];
          const bRow = bo + p * n;
          for (let j = 0; j < n; j++) row[j] += av * y[bRow + j];
        }
        z.set(row, (t * m + i) * n);
      }
    }
    return z;
  },
  wgsl: (req) => matmulKernel(req),
};

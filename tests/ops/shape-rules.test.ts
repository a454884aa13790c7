// Shape rules reject bad inputs with a message that names the op, the broken constraint
// and the values involved (one check per message, as JAX's shape rules do).

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { ShapeError } from "../../compiler/ops/def.js";

function graph() {
  const b = new GraphBuilder();
  return { b, x: b.input("x", [2, 3, 8, 8]), w: b.param("w", [4, 5, 3, 3]), m: b.input("m", [2, 3]), n: b.input("n", [4, 5]) };
}

describe("shape rule errors", () => {
  test("conv2d channel mismatch", () => {
    const { b, x, w } = graph();
    expect(() => b.conv2d(x, w, { padding: 1 })).toThrowErrorMatchingInlineSnapshot(`[ShapeError: conv2d: input channels 3 (f32[2,3,8,8]) != weight in-channels 5 (f32[4,5,3,3])]`);
  });
  test("conv2d kernel larger than input", () => {
    const { b } = graph();
    expect(() => b.conv2d(b.input("s", [1, 1, 2, 2]), b.param("k", [1, 1, 3, 3]))).toThrowErrorMatchingInlineSnapshot(`[ShapeError: conv2d: kernel 3x3 does not fit input 2x2 with padding 0]`);
  });
  test("conv2d bad stride", () => {
    const { b } = graph();
    expect(() => b.conv2d(b.input("s", [1, 1, 4, 4]), b.param("k", [1, 1, 3, 3]), { stride: 0 })).toThrowErrorMatchingInlineSnapshot(`[ShapeError: conv2d: stride must be a positive integer, got 0]`);
  });
  test("matmul contraction mismatch", () => {
    const { b, m, n } = graph();
    expect(() => b.matmul(m, n)).toThrowErrorMatchingInlineSnapshot(`[ShapeError: matmul: contraction dims differ: f32[2,3] @ f32[4,5] (K=3 vs 4)]`);
  });
  test("binary broadcasting failure", () => {
    const { b, m, n } = graph();
    expect(() => b.add(m, n)).toThrowErrorMatchingInlineSnapshot(`[ShapeError: add: shapes do not broadcast: f32[2,3] vs f32[4,5]]`);
  });
  test("reshape element count", () => {
    const { b, m } = graph();
    expect(() => b.reshape(m, [4, 2])).toThrowErrorMatchingInlineSnapshot(`[ShapeError: reshape: cannot reshape f32[2,3] (6 elements) to [4,2] (8 elements)]`);
  });
  test("concat off-axis mismatch", () => {
    const { b, m, n } = graph();
    expect(() => b.concat([m, n], 1)).toThrowErrorMatchingInlineSnapshot(`[ShapeError: concat: input 1 f32[4,5] must match input 0 f32[2,3] on every axis but 1]`);
  });
  test("slice out of bounds", () => {
    const { b, m } = graph();
    expect(() => b.slice(m, [0, 1], [2, 4])).toThrowErrorMatchingInlineSnapshot(`[ShapeError: slice: axis 1: [1, 4) is not inside [0, 3) of f32[2,3]]`);
  });
  test("transpose with a bad permutation", () => {
    const { b, m } = graph();
    expect(() => b.transpose(m, [0, 0])).toThrowErrorMatchingInlineSnapshot(`[ShapeError: transpose: perm [0,0] is not a permutation of the 2 axes of f32[2,3]]`);
  });
  test("reduce axis out of range", () => {
    const { b, m } = graph();
    expect(() => b.sum(m, 2)).toThrowErrorMatchingInlineSnapshot(`[ShapeError: reduce_sum: axis 2 is out of range for rank 2]`);
  });
  test("gather needs i32 indices", () => {
    const { b, n } = graph();
    expect(() => b.gather(n, b.input("i", [3]))).toThrowErrorMatchingInlineSnapshot(`[ShapeError: gather: indices must be i32, got f32[3]]`);
  });
  test("unary ops need f32", () => {
    const { b } = graph();
    expect(() => b.exp(b.input("c", [3], "i32"))).toThrowErrorMatchingInlineSnapshot(`[ShapeError: exp: input 0 must be f32, got i32[3]]`);
  });
  test("errors are ShapeErrors carrying the op", () => {
    const { b, m, n } = graph();
    try {
      b.matmul(m, n);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ShapeError);
      expect((err as ShapeError).op).toBe("matmul");
    }
  });
});

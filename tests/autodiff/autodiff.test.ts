// The autodiff driver: fan-out sums, un-broadcasting, pruning of unneeded gradients.

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { opCounts } from "../../compiler/ir/printer.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { appendGradients, gradGraph } from "../../compiler/passes/autodiff/index.js";
import { runGraph } from "../../runtime/reference/interpreter.js";
import { isSource } from "../../compiler/ir/types.js";
import { WEIGHT_GRAD_MAX_SPLITS, weightGradSplits } from "../../compiler/ops/conv2d.js";

describe("appendGradients", () => {
  test("a value read twice (a saved skip) gets the sum of both cotangents", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [3]);
    const h = b.exp(x); // read by the "next block" and by the "skip"
    b.output("y", b.add(b.sin(h), b.mul(h, 2)));
    const g = gradGraph(b.build(), { of: "y", wrt: ["x"] });
    verifyGraph(g, "autodiff");
    const xs = [0.1, -0.4, 0.7];
    const out = runGraph(g, { x: { shape: [3], data: Float64Array.from(xs) } }, { precision: "f64" }).outputs["grad.x"];
    xs.forEach((v, i) => expect(out.data[i]).toBeCloseTo(Math.exp(v) * (Math.cos(Math.exp(v)) + 2), 12));
  });

  test("broadcast operands get cotangents summed back to their shape", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2, 3]);
    const bias = b.param("bias", [3]);
    const scale = b.param("scale", [2, 1]);
    b.output("y", b.mul(b.add(x, bias), scale));
    const g = gradGraph(b.build(), { of: "y", wrt: ["bias", "scale"] });
    const out = runGraph(g, {
      x: { shape: [2, 3], data: Float64Array.of(1, 2, 3, 4, 5, 6) },
      bias: { shape: [3], data: Float64Array.of(0, 0, 1) },
      scale: { shape: [2, 1], data: Float64Array.of(2, 3) },
    }, { precision: "f64" }).outputs;
    expect(out["grad.bias"].shape).toEqual([3]);
    expect(Array.from(out["grad.bias"].data)).toEqual([5, 5, 5]);
    expect(Array.from(out["grad.scale"].data)).toEqual([7, 16]);
  });

  test("gradients nobody asked for are not built; unrelated params get zeros", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [1, 2, 4, 4]);
    const w1 = b.param("w1", [2, 2, 3, 3]);
    const w2 = b.param("w2", [2, 2, 3, 3]);
    const unused = b.param("unused", [5]);
    const h = b.conv2d(x, w1, { padding: 1 });
    const y = b.sum(b.conv2d(h, w2, { padding: 1 }));
    const [g2, gu] = appendGradients(b, y, [w2, unused]);
    b.output("g2", g2);
    b.output("gu", gu);
    const g = b.build();
    const counts = opCounts(g);
    // no conv2d_input_grad into x, no gradient through the first conv at all
    expect(counts.get("conv2d_input_grad")).toBeUndefined();
    expect(counts.get("conv2d_weight_grad")).toBe(1);
    const zeros = g.outputs.find((o) => o.name === "gu")!.value;
    expect(g.nodes[zeros]).toMatchObject({ op: "fill", params: { value: 0 }, shape: [5] });
  });

  test("a long weight-gradient reduction is split over sample groups and summed", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [16, 4, 32, 32]); // K = 16 * 32 * 32 = 16384 pixels
    const w = b.param("w", [8, 4, 3, 3]);
    const [gw] = appendGradients(b, b.sum(b.conv2d(x, w, { padding: 1 })), [w]);
    expect(gw.shape).toEqual([8, 4, 3, 3]);
    b.output("gw", gw);
    const g = b.build();
    const partial = g.nodes.find((n) => !isSource(n) && n.op === "conv2d_weight_grad_partial");
    expect(partial).toMatchObject({ shape: [16, 8, 4, 3, 3], params: { splits: 16 } }); // parts of 1024 pixels
    expect(opCounts(g).get("conv2d_weight_grad")).toBeUndefined();
    expect(weightGradSplits([2, 4, 32, 32], [2, 8, 32, 32], [3, 3])).toBe(1); // short K: no split
    expect(weightGradSplits([512, 64, 32, 32], [512, 64, 32, 32], [3, 3])).toBe(WEIGHT_GRAD_MAX_SPLITS);
    expect(weightGradSplits([7, 4, 64, 64], [7, 8, 64, 64], [3, 3])).toBe(7); // a divisor of N
    expect(weightGradSplits([1, 4, 256, 256], [1, 8, 256, 256], [3, 3])).toBe(1); // one sample
  });

  test("i32 values are never differentiated", () => {
    const b = new GraphBuilder();
    const table = b.param("table", [4, 2]);
    const idx = b.input("c", [3], "i32");
    const y = b.sum(b.gather(table, idx));
    const [gt, gi] = appendGradients(b, y, [table, idx]);
    expect(gt.shape).toEqual([4, 2]);
    expect(b.node(gi)).toMatchObject({ op: "fill", dtype: "i32" });
  });
});

// The printer is the test oracle for graph structure (jax-js pins whole programs this way).

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { printGraph, opCounts } from "../../compiler/ir/printer.js";
import { toDot } from "../../compiler/ir/dot.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { gradGraph } from "../../compiler/passes/autodiff/index.js";
import { conv2dLayer } from "../../compiler/graph/composites/index.js";

function tinyMatmul() {
  const b = new GraphBuilder();
  const x = b.input("x", [2, 3]);
  const w = b.param("w", [3, 4]);
  b.output("y", b.matmul(x, w));
  return b.build();
}

describe("printGraph", () => {
  test("a tiny graph", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [4, 1, 8, 8]);
    const w = b.param("downs.0.conv.weight", [2, 1, 3, 3]);
    const bias = b.param("downs.0.conv.bias", [2]);
    const y = b.withLabel("downs.0.conv", () => conv2dLayer(b, x, w, bias, 2, 1));
    b.output("output", b.relu(y));
    expect(printGraph(b.build())).toMatchInlineSnapshot(`
      "%x: f32[4,1,8,8] = input
      %downs.0.conv.weight: f32[2,1,3,3] = param
      %downs.0.conv.bias: f32[2] = param
      %3: f32[4,2,4,4] = conv2d(%x, %downs.0.conv.weight) stride=2 padding=1  # downs.0.conv
      %4: f32[1,2,1,1] = reshape(%downs.0.conv.bias)  # downs.0.conv
      %5: f32[4,2,4,4] = add(%3, %4)  # downs.0.conv
      %6: f32[4,2,4,4] = relu(%5)
      output output = %6
      # 4 ops: 1 add, 1 conv2d, 1 relu, 1 reshape"
    `);
  });

  test("the gradient of matmul stays two matmuls", () => {
    const g = gradGraph(tinyMatmul(), { of: "y", wrt: ["x", "w"] });
    verifyGraph(g, "gradGraph");
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "%x: f32[2,3] = input
      %w: f32[3,4] = param
      %2: f32[2,4] = matmul(%x, %w)
      %3: f32[2,4] = fill() value=1
      %4: f32[4,3] = transpose(%w) perm=[1,0]
      %5: f32[2,3] = matmul(%3, %4)
      %6: f32[3,2] = transpose(%x) perm=[1,0]
      %7: f32[3,4] = matmul(%6, %3)
      output y = %2
      output grad.x = %5
      output grad.w = %7
      # 6 ops: 3 matmul, 2 transpose, 1 fill"
    `);
    expect(opCounts(g).get("matmul")).toBe(3);
  });

  test("only the requested gradients are built", () => {
    const g = gradGraph(tinyMatmul(), { of: "y", wrt: ["w"] });
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "%x: f32[2,3] = input
      %w: f32[3,4] = param
      %2: f32[2,4] = matmul(%x, %w)
      %3: f32[2,4] = fill() value=1
      %4: f32[3,2] = transpose(%x) perm=[1,0]
      %5: f32[3,4] = matmul(%4, %3)
      output y = %2
      output grad.w = %5
      # 4 ops: 2 matmul, 1 fill, 1 transpose"
    `);
  });

  test("dot output", () => {
    expect(toDot(tinyMatmul())).toMatchInlineSnapshot(`
      "digraph "unetc" {
        node [shape=box, fontname="monospace", fontsize=10];
        n0 [label="x\\ninput f32[2,3]", shape=ellipse];
        n1 [label="w\\nparam f32[3,4]", shape=ellipse];
        n2 [label="%2 matmul\\nf32[2,4]"];
        n0 -> n2;
        n1 -> n2;
        out0 [label="y", shape=plaintext];
        n2 -> out0;
      }"
    `);
  });
});

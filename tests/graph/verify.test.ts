// verifyGraph catches graphs a pass broke, names the pass and shows the nodes around.

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Graph, Node } from "../../compiler/ir/types.js";
import { GraphVerifyError, verifyGraph } from "../../compiler/graph/verify.js";
import { gradGraph } from "../../compiler/passes/autodiff/index.js";
import { silu } from "../../compiler/graph/composites/index.js";

function mlp(): Graph {
  const b = new GraphBuilder();
  const x = b.input("x", [2, 3]);
  const w = b.param("w", [3, 4]);
  const h = silu(b, b.matmul(x, w));
  b.output("y", b.sum(h, 1));
  return b.build();
}

/** A stand-in for a buggy rewrite pass: edits node `id` in place. */
function breakNode(g: Graph, id: number, edit: (n: Node) => Node): Graph {
  return { ...g, nodes: g.nodes.map((n) => (n.id === id ? edit(n) : n)) };
}

describe("verifyGraph", () => {
  test("accepts what the builder and autodiff produce", () => {
    expect(() => verifyGraph(mlp(), "lower")).not.toThrow();
    expect(() => verifyGraph(gradGraph(mlp(), { of: "y", wrt: ["w"] }), "autodiff")).not.toThrow();
  });

  test("a stale shape names the pass and points at the node", () => {
    const broken = breakNode(mlp(), 3, (n) => ({ ...n, shape: [2, 5] }));
    expect(() => verifyGraph(broken, "fuse-elementwise")).toThrowErrorMatchingInlineSnapshot(`
      [GraphVerifyError: graph verification failed after pass 'fuse-elementwise': node %3 (sigmoid): stored type f32[2,5] but the sigmoid shape rule gives f32[2,4]
          %x: f32[2,3] = input
          %w: f32[3,4] = param
          %2: f32[2,4] = matmul(%x, %w)
        > %3: f32[2,5] = sigmoid(%2)
          %4: f32[2,4] = mul(%2, %3)
          %5: f32[2] = reduce_sum(%4) axes=[1] keepdims=false]
    `);
  });

  test("a use before definition", () => {
    const g = mlp();
    const swapped = { ...g, nodes: [g.nodes[0], g.nodes[1], g.nodes[3], g.nodes[2], ...g.nodes.slice(4)] };
    expect(() => verifyGraph(swapped, "schedule")).toThrow(/after pass 'schedule': node %3 \(sigmoid\): input %2 is not defined before its use/);
  });

  test("a duplicated definition, an unknown op, a bad output", () => {
    const g = mlp();
    expect(() => verifyGraph({ ...g, nodes: [...g.nodes, g.nodes[2]] }, "cse")).toThrow(/value %2 is defined twice/);
    expect(() => verifyGraph(breakNode(g, 3, (n) => ({ ...n, op: "frobnicate" }) as unknown as Node), "p")).toThrow(/unknown op 'frobnicate'/);
    expect(() => verifyGraph({ ...g, outputs: [{ name: "y", value: 99 }] }, "p")).toThrow(/output 'y' refers to undefined value %99/);
  });

  test("params that break the shape rule", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [1, 2, 4, 4]);
    b.output("y", b.conv2d(x, b.param("w", [3, 2, 3, 3]), { padding: 1 }));
    const broken = breakNode(b.build(), 2, (n) => ({ ...n, params: { stride: 1, padding: 0 } }) as Node);
    try {
      verifyGraph(broken, "retile");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GraphVerifyError);
      expect((err as GraphVerifyError).pass).toBe("retile");
      expect((err as GraphVerifyError).nodeId).toBe(2);
      expect((err as Error).message).toContain("stored type f32[1,3,4,4] but the conv2d shape rule gives f32[1,3,2,2]");
    }
  });
});

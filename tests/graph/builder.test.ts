import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { printGraph } from "../../compiler/ir/printer.js";
import { isSource } from "../../compiler/ir/types.js";

describe("GraphBuilder", () => {
  test("graph inputs have unique names across roles", () => {
    const b = new GraphBuilder();
    b.input("x", [2]);
    expect(() => b.param("x", [3])).toThrow("graph input 'x' is already defined (as input f32[2])");
  });

  test("values from another builder are rejected", () => {
    const a = new GraphBuilder();
    const b = new GraphBuilder();
    const x = a.input("x", [2]);
    expect(() => b.exp(x)).toThrow(/belongs to another graph builder/);
  });

  test("reshape infers -1; no-op reshapes, transposes and broadcasts add no node", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2, 3, 4]);
    expect(b.reshape(x, [-1, 4]).shape).toEqual([6, 4]);
    const size = b.size;
    expect(b.reshape(x, [2, 3, 4])).toBe(x);
    expect(b.transpose(x, [0, 1, 2])).toBe(x);
    expect(b.broadcastTo(x, [2, 3, 4])).toBe(x);
    expect(b.sum(x, [])).toBe(x);
    expect(b.size).toBe(size);
  });

  test("numbers become f32 scalar constants that broadcast", () => {
    const b = new GraphBuilder();
    const y = b.mul(b.input("x", [2, 3]), 0.5);
    expect(y.shape).toEqual([2, 3]);
    b.output("y", y);
    expect(printGraph(b.build(), { counts: false })).toMatchInlineSnapshot(`
      "%x: f32[2,3] = input
      %1: f32[] = fill() value=0.5
      %2: f32[2,3] = mul(%x, %1)
      output y = %2"
    `);
  });

  test("build prunes dead ops, keeps every source, renumbers densely", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2]);
    b.param("unused", [1]);
    b.exp(x); // dead
    b.output("y", b.neg(x));
    const g = b.build();
    expect(g.nodes.map((n) => n.op)).toEqual(["input", "param", "neg"]);
    expect(g.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(b.build({ prune: false }).nodes).toHaveLength(4);
  });

  test("fromGraph copies sources, labels and outputs", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2]);
    b.withLabel("layer", () => b.output("y", b.sin(x)));
    const g = b.build();
    const { builder } = GraphBuilder.fromGraph(g);
    expect(printGraph(builder.build())).toBe(printGraph(g));
    expect(g.nodes.filter(isSource).map((n) => n.name)).toEqual(["x"]);
  });

  test("withLabel nests and restores", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2]);
    const inner = b.withLabel("outer", () => [b.exp(x), b.withLabel("inner", () => b.log(x)), b.sin(x)]);
    const after = b.cos(x);
    expect([...inner, after].map((v) => b.node(v).label)).toEqual(["outer", "inner", "outer", undefined]);
  });
});

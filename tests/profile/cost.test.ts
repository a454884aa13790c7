// The static cost model (compiler/passes/schedule/cost.ts, through compile.ts's stepCost): FLOPs
// and bytes per kernel on hand-built graphs, totals that are the kernels' sums, and every kernel
// of a training step attributed to a phase and a layer.
import { describe, expect, test } from "vitest";
import { compile, compileGraph, stepCost, type CompiledGraph, type KernelCost } from "../../compiler/compile.js";
import { STACKED } from "../../compiler/passes/schedule/cost.js";
import { stateCopies } from "../../compiler/wgsl/program.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Graph } from "../../compiler/ir/types.js";
import { tinyModel } from "../train/support.js";

const costOf = (g: Graph, opt: 0 | 1 = 1) => stepCost(compileGraph(g, { opt }));
const only = (g: Graph): KernelCost => {
  const { kernels } = costOf(g);
  expect(kernels).toHaveLength(1);
  return kernels[0];
};

describe("cost model", () => {
  test.each([1, 2])("a conv2d (stride %i) does 2*N*Co*Ho*Wo*Ci*kh*kw FLOPs and moves its input, weight and output", (stride) => {
    const b = new GraphBuilder();
    const y = b.op("conv2d", [b.input("x", [2, 3, 8, 8]), b.param("w", [5, 3, 3, 3])], { stride, padding: 1 });
    b.output("y", y);
    const k = only(b.build());
    const [n, co, ho, wo] = y.shape;
    expect(ho).toBe(8 / stride);
    expect(k.flops).toBe(2 * n * co * ho * wo * 3 * 3 * 3);
    expect(k.kind).toBe("conv2d");
    expect(k.bytesRead).toBe(4 * (2 * 3 * 8 * 8 + 5 * 3 * 3 * 3));
    expect(k.bytesWritten).toBe(4 * n * co * ho * wo);
  });

  test("a conv2d's input and weight gradients (whole or split) do the forward's multiply-adds", () => {
    const conv = { stride: 2, padding: 1 };
    const forward = 2 * (2 * 5 * 4 * 4) * 3 * 3 * 3;
    const b = new GraphBuilder();
    const x = b.input("x", [2, 3, 8, 8]);
    const w = b.param("w", [5, 3, 3, 3]);
    const g = b.input("g", [2, 5, 4, 4]);
    b.output("dx", b.op("conv2d_input_grad", [g, w], { ...conv, inputSize: [8, 8] }));
    b.output("dw", b.op("conv2d_weight_grad", [x, g], { ...conv, kernelSize: [3, 3] }));
    b.output("dwp", b.op("conv2d_weight_grad_partial", [x, g], { ...conv, kernelSize: [3, 3], splits: 2 }));
    const { kernels } = costOf(b.build());
    expect(kernels.map((k) => k.kind)).toEqual(["conv2d_input_grad", "conv2d_weight_grad", "conv2d_weight_grad_partial"]);
    for (const k of kernels) expect(k.flops, k.kind).toBe(forward);
  });

  test("a batched matmul does 2*M*N*K FLOPs per batch", () => {
    const b = new GraphBuilder();
    b.output("y", b.matmul(b.input("a", [2, 3, 4]), b.input("b", [4, 5])));
    expect(only(b.build()).flops).toBe(2 * 2 * 3 * 5 * 4);
  });

  test("a logsumexp computed in its attention's kernel counts its rows only, not another pass over the keys", () => {
    const [n, s, heads, d] = [2, 16, 2, 4];
    const build = (lse: boolean) => {
      const b = new GraphBuilder();
      const qkv = b.input("qkv", [n, s, 3 * heads * d]);
      b.output("out", b.op("attention", [qkv], { heads }));
      if (lse) b.output("lse", b.op("attention_lse", [qkv], { heads }));
      return b.build();
    };
    const forward = only(build(false)).flops;
    expect(forward).toBe(n * s * s * heads * (6 * d + 3));
    const fused = only(build(true));
    expect(fused.label).toBe("attention+lse");
    expect(fused.flops).toBe(forward + 2 * n * heads * s);
    // alone (--opt 0), the logsumexp is a pass of its own over the keys
    const alone = costOf(build(true), 0).kernels.find((k) => k.label === "attention_lse")!;
    expect(alone.flops).toBe(n * s * s * heads * (2 * d + 2));
  });

  test("a fused chain counts only its external inputs and its output; unfused (opt 0) it moves more", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [4, 16]);
    const y = b.input("y", [4, 16]);
    b.output("z", b.exp(b.mul(b.add(x, y), x)));
    const g = b.build();
    const k = only(g);
    expect(k.label).toBe("add+mul+exp");
    expect(k.kind).toBe("elementwise");
    expect(k.ops).toBe(3);
    expect(k.flops).toBe(3 * 64);
    expect(k.bytesRead).toBe(2 * 64 * 4);
    expect(k.bytesWritten).toBe(64 * 4);
    const unfused = costOf(g, 0);
    expect(unfused.kernels).toHaveLength(3);
    expect(unfused.totals.flops).toBe(k.flops);
    expect(unfused.totals.bytesMoved).toBe(4 * 64 * (2 + 1 + 2 + 1 + 1 + 1));
  });

  test("a reshape is an alias: no kernel, and its reader reads its input's bytes; movement does no arithmetic", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [4, 16]);
    b.output("s", b.sum(b.reshape(x, [64]), 0));
    b.output("t", b.op("transpose", [x], { perm: [1, 0] }));
    const { kernels, totals } = costOf(b.build());
    expect(kernels.map((k) => k.kind)).toEqual(["reduce_sum", "transpose"]);
    expect(kernels[0]).toMatchObject({ flops: 64, bytesRead: 256, bytesWritten: 4 });
    expect(kernels[1]).toMatchObject({ flops: 0, bytesRead: 256, bytesWritten: 256 });
    expect(totals).toMatchObject({ kernels: 2, pipelines: 2, flops: 64, bytesMoved: 256 + 4 + 512 });
  });
});

describe("cost of a training step", () => {
  const model = tinyModel();
  const compiled = compile(model, { batch: 2, mode: "step" });
  const cost = stepCost(compiled);

  test("totals are the kernels' sums, with the schedule's pipelines and the plan's memory report", () => {
    const sum = (f: (k: KernelCost) => number) => cost.kernels.reduce((a, k) => a + f(k), 0);
    expect(cost.totals.kernels).toBe(compiled.kernels.length);
    expect(cost.totals.pipelines).toBe(new Set(compiled.kernels.map((k) => k.source.code)).size);
    expect(cost.totals.ops).toBe(sum((k) => k.ops));
    expect(cost.totals.flops).toBe(sum((k) => k.flops));
    expect(cost.totals.bytesMoved).toBe(sum((k) => k.bytesRead + k.bytesWritten));
    expect(cost.totals.copyBytes).toBeGreaterThan(0); // new.X over X
    expect(cost.memory).toEqual(compiled.report);
  });

  test("every backward and optimizer kernel is attributed to a forward layer (or the model, the loss, shared scalars, a stack)", () => {
    const forward = new Set(cost.kernels.filter((k) => k.phase === "forward").map((k) => k.layer));
    const phases = new Set(cost.kernels.map((k) => k.phase));
    expect([...phases].sort()).toEqual(["backward", "forward", "loss", "optimizer"]);
    for (const k of cost.kernels) {
      if (k.phase === "backward" || k.phase === "optimizer") expect(forward.has(k.layer) || k.layer === "(optimizer scalars)" || k.layer === STACKED, `k${k.index} ${k.phase} ${k.layer}`).toBe(true);
    }
    // Unstacked, each parameter's Adam update lands on the layer that owns it.
    const alone = stepCost(compile(model, { batch: 2, mode: "step", stack: false }));
    expect(alone.kernels.some((k) => k.phase === "optimizer" && k.layer === "conv_in")).toBe(true);
    expect(alone.kernels.some((k) => k.layer === STACKED)).toBe(false);
  });

  const params = model.parameters.filter((p) => p.kind === "param").map((p) => p.name);
  const numelOf = (c: CompiledGraph, id: number) => c.graph.nodes[id].shape.reduce((a, b) => a * b, 1);
  /** The stacked optimizer kernels and, per kernel, the outputs each write run holds. */
  const stackedUpdates = (c: CompiledGraph) => {
    const names = new Map(c.graph.outputs.map((o) => [o.value, o.name]));
    return stepCost(c)
      .kernels.filter((k) => k.phase === "optimizer" && k.layer !== "(optimizer scalars)")
      .map((u) => {
        const k = c.kernels[u.index];
        expect(k.stack, `k${u.index} ${k.label}`).toBeDefined();
        const runs = k.stack!.bindings.slice(k.inputs.length).map((run) => run.map((id) => names.get(id)!));
        return { u, k, runs };
      });
  };

  test("within 8 bindings the Adam updates of all parameters are three stacked kernels: the two moments (each computing g + wd * p itself) and the parameters", () => {
    expect(params.length).toBeGreaterThan(3);
    const updates = stackedUpdates(compiled);
    expect(updates).toHaveLength(3);
    const written = updates.flatMap((x) => x.runs).map((run) => run.map((name) => name.replace(/\.adam\.[mv]\./, ".")));
    for (const run of written) expect(run).toEqual(params.map((p) => `new.${p}`));
    // the parameters' kernel reads the moments' runs as they were written
    const byName = new Map(compiled.graph.outputs.map((o) => [o.name, o.value]));
    const pk = updates.find((x) => x.runs[0][0] === `new.${params[0]}`)!.k;
    const mRun = params.map((p) => byName.get(`new.adam.m.${p}`)!);
    expect(pk.stack!.bindings).toContainEqual(mRun);
  });

  test("with 16 bindings it is one kernel for all parameters, writing the parameters and both moments in place", () => {
    const wide = compile(model, { batch: 2, mode: "step", limits: { maxStorageBuffersPerShaderStage: 16 } });
    const updates = stackedUpdates(wide);
    expect(updates).toHaveLength(1);
    const [{ u, k, runs }] = updates;
    expect(runs.map((run) => run[0]).sort()).toEqual([`new.${params[0]}`, `new.adam.m.${params[0]}`, `new.adam.v.${params[0]}`].sort());
    for (const run of runs) expect(run).toHaveLength(params.length);
    const total = k.stack!.bindings[k.inputs.length].reduce((a, id) => a + numelOf(wide, id), 0);
    expect(u.bytesWritten).toBe(3 * 4 * total);
    // each run is written where its sources lie (the parameters, m, v), an arena of its own; the
    // kernel binds the gradients' run and the shared scalars besides, not the sources again
    const sources = new Map(wide.graph.nodes.flatMap((n) => (n.op === "param" || n.op === "buffer" ? [[(n as { name: string }).name, n.id] as const] : [])));
    const writes = k.stack!.bindings.slice(k.inputs.length);
    const arenas = writes.map((run) => wide.plan.placement.get(run[0])!);
    for (const [w, run] of writes.entries()) {
      const names = new Map(wide.graph.outputs.map((o) => [o.value, o.name]));
      run.forEach((id, j) => {
        const src = sources.get(names.get(id)!.slice("new.".length))!;
        expect(wide.plan.placement.get(id)).toEqual({ ...wide.plan.placement.get(src)!, size: wide.plan.placement.get(id)!.size });
        expect(wide.plan.placement.get(src)!.offset - arenas[w].offset).toBe(k.stack!.offsets[j]);
      });
      expect(arenas[w]).toMatchObject({ kind: "arena", offset: 0 });
      expect(wide.plan.arenas[arenas[w].index]).toBe(Math.ceil(k.stack!.bytes / 256) * 256);
    }
    expect(new Set(arenas.map((p) => p.index)).size).toBe(3);
    expect(k.inputs.every((id) => numelOf(wide, id) === 1 || wide.graph.nodes[id].op !== "param")).toBe(true);
    expect(k.source.code).toMatch(/out\[i\]/);
    // no state copy after the step for the parameters and moments: they were written in place
    const copied = new Set(stateCopies(wide.graph, wide.plan).map((c) => `${c.to.kind}${c.to.index}`));
    for (const p of arenas) expect(copied.has(`arena${p.index}`)).toBe(false);
    expect(stepCost(wide).kernels.filter((x) => x.layer === STACKED && x.phase === "optimizer")).toHaveLength(1);
  });

  test("opt 0 compiles more kernels for the same arithmetic", () => {
    const unopt = stepCost(compile(model, { batch: 2, mode: "step", opt: 0 }));
    expect(unopt.totals.kernels).toBeGreaterThan(cost.totals.kernels);
    expect(unopt.totals.kernels).toBe(unopt.totals.ops);
    // fused BatchNorm computes its statistics and gradients by other arithmetic, Adam's g + wd * p
    // is computed once per moment, equal nodes once, and two pads added side by side are a concat;
    // kernel fusion alone changes none
    expect(unopt.totals.flops).toBe(stepCost(compile(model, { batch: 2, mode: "step", fuseBatchNorm: false, fuseDecayedGrad: false, mergeCommon: false, joinPads: false })).totals.flops);
    expect(unopt.totals.bytesMoved).toBeGreaterThan(cost.totals.bytesMoved);
  });
});

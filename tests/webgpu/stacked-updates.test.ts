// Stacked state updates (compiler/passes/schedule/stack.ts): equal elementwise kernels whose
// every write is a `new.X` output run as one over runs of values laid end to end (memory-plan.ts),
// writing the state in place where each member reads what it replaces, so that no state copy
// follows. On the device, two steps (the second reading what the first left) equal the reference
// interpreter's, with sizes that leave padding between the members; a run that some kernel would
// bind against WebGPU's rule (read and written in one dispatch) is not made; a stack runs after
// every kernel reading the sources it overwrites; the EMA of the new parameters stacks over the
// optimizer's run of them; at fuse: false nothing is stacked.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compile, compileGraph, type CompiledGraph } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { initParameters } from "../../runtime/session/init.js";
import { tinyModel } from "../train/support.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { stateCopies } from "../../compiler/wgsl/program.js";
import { STACK_RUN_BYTES } from "../../compiler/passes/schedule/stack.js";
import { expectGraphMatchesReference, getGpu, randomData } from "./gpu-harness.js";

const gpu = await getGpu();
const WIDE = { maxStorageBuffersPerShaderStage: 16 };
// not multiples of 64 floats (the 256-byte alignment): the runs have padding between members
const SIZES: number[][] = [[5], [70], [3, 130], [2, 2]];

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => ({ shape, data: randomData(numel(shape), seed, lo, hi) });

/**
 * Adam (adam.ts's arithmetic, g + wd*p once per moment) on parameters of SIZES, each gradient
 * a reduction over a batch (written by a kernel, as a real gradient is).
 */
function adamStep(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const scalar = (name: string, lo: number, hi: number) => {
    feeds[name] = tensor([1], 100 + Object.keys(feeds).length, lo, hi);
    return b.input(name, [1]);
  };
  const [b1, b2, wd, step, eps] = [scalar("b1", 0.8, 0.9), scalar("b2", 0.9, 0.99), scalar("wd", 0, 0.1), scalar("step", 0, 0.01), scalar("eps", 1e-5, 1e-4)];
  // shared by every parameter's update, as adamScalars makes them
  const [c1, c2] = [b.sub(1, b1), b.sub(1, b2)];
  SIZES.forEach((shape, i) => {
    const p = b.param(`p${i}`, shape);
    const m = b.buffer(`m${i}`, shape);
    const v = b.buffer(`v${i}`, shape);
    const x = b.input(`x${i}`, [3, ...shape]);
    const g = b.sum(x, 0);
    const decayed = () => b.add(g, b.mul(p, wd));
    const m1 = b.add(b.mul(m, b1), b.mul(decayed(), c1));
    const v1 = b.add(b.mul(v, b2), b.mul(b.square(decayed()), c2));
    b.output(`new.m${i}`, m1);
    b.output(`new.v${i}`, v1);
    b.output(`new.p${i}`, b.sub(p, b.mul(b.div(m1, b.add(b.sqrt(v1), eps)), step)));
    feeds[`p${i}`] = tensor(shape, 10 * i + 1);
    feeds[`m${i}`] = tensor(shape, 10 * i + 2);
    feeds[`v${i}`] = tensor(shape, 10 * i + 3, 0, 1);
    feeds[`x${i}`] = tensor([3, ...shape], 10 * i + 4);
  });
  return { graph: b.build(), feeds };
}

const stacks = (c: CompiledGraph) => c.kernels.filter((k) => k.stack);

describe("stacked state updates in the schedule and the memory plan", () => {
  it("runs every parameter's Adam update as one kernel over runs at aligned offsets, in place, with no state copy", () => {
    const { graph } = adamStep();
    const c = compileGraph(graph, { hardware: false, limits: WIDE });
    const [k, ...more] = stacks(c);
    expect(more).toHaveLength(0);
    expect(k.label).toMatch(/ x4$/);
    const s = k.stack!;
    expect(s.offsets).toEqual([0, 256, 768, 2560]);
    expect(s.bytes).toBe(2560 + 16);
    const runs = s.bindings.filter((r) => r.length > 1);
    expect(runs).toHaveLength(4); // g in; p, m, v written where they are read
    for (const run of runs) {
      const places = run.map((id) => c.plan.placement.get(id)!);
      places.forEach((p, j) => expect([p.kind, p.index, p.offset - places[0].offset]).toEqual([places[0].kind, places[0].index, s.offsets[j]]));
    }
    // the gradients' run: a transient buffer of its own, written member by member by the reductions
    const gRun = runs.find((r) => r.every((id) => graph.nodes[id].op === "reduce_sum"))!;
    expect(gRun).toBeDefined();
    expect(c.plan.slots[c.plan.placement.get(gRun[0])!.index]).toBe(s.bytes);
    // each written run is its sources' run, alone in an arena; the sources are bound once, through it
    expect(s.inPlace).toHaveLength(3 * SIZES.length);
    for (const [w, src] of s.inPlace!) expect(c.plan.placement.get(w)).toMatchObject({ kind: "arena", index: c.plan.placement.get(src)!.index, offset: c.plan.placement.get(src)!.offset });
    const written = runs.filter((r) => r !== gRun).map((r) => c.plan.placement.get(r[0])!);
    expect(new Set(written.map((p) => p.index)).size).toBe(3);
    for (const p of written) expect([p.offset, c.plan.arenas[p.index]]).toEqual([0, 2816]);
    expect(k.inputs.some((id) => graph.nodes[id].op === "param" || graph.nodes[id].op === "buffer")).toBe(false);
    expect(stateCopies(graph, c.plan)).toHaveLength(0);
  });

  it("stacks each of the three kernels within 8 bindings, and reads the moments' runs as written", () => {
    const c = compileGraph(adamStep().graph, { hardware: false, limits: { maxStorageBuffersPerShaderStage: 8 } });
    const ks = stacks(c);
    expect(ks).toHaveLength(3);
    const written = new Set(ks.flatMap((k) => k.stack!.bindings.slice(k.inputs.length).map((r) => r.join(","))));
    const update = ks.find((k) => k.stack!.bindings.filter((r) => written.has(r.join(","))).length === 3)!;
    expect(update, "the parameters' kernel reads both moments' runs and writes its own").toBeDefined();
    expect(c.kernels.indexOf(update)).toBeGreaterThan(Math.max(...ks.filter((k) => k !== update).map((k) => c.kernels.indexOf(k))));
  });

  it("keeps each run within STACK_RUN_BYTES: more stacks, not one long run", () => {
    const b = new GraphBuilder();
    const s = b.input("s", [1]);
    const n = STACK_RUN_BYTES / 4 / 4; // a quarter of a run each
    for (let i = 0; i < 5; i++) b.output(`new.p${i}`, b.add(b.mul(b.param(`p${i}`, [n]), s), b.input(`x${i}`, [n])));
    const c = compileGraph(b.build(), { hardware: false, limits: WIDE });
    const ks = stacks(c);
    expect(ks.map((k) => k.label)).toEqual(["mul+add x4"]);
    expect(ks[0].stack!.bytes).toBe(STACK_RUN_BYTES);
    expect(c.kernels.filter((k) => k.label === "mul+add")).toHaveLength(1);
  });

  it("stacks nothing at fuse: false or stack: false", () => {
    const { graph } = adamStep();
    expect(stacks(compileGraph(graph, { hardware: false, limits: WIDE, fuse: false }))).toHaveLength(0);
    expect(stacks(compileGraph(graph, { hardware: false, limits: WIDE, stack: false }))).toHaveLength(0);
  });
});

/**
 * Four plain updates new.X = X - lr * g: b's gradient is a matmul of a's, so one kernel would
 * read a's gradient and write b's. Their run would be bound read and written in that dispatch,
 * which WebGPU forbids: a and b stay alone, c and d stack.
 */
function chainedGradients(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = { lr: tensor([1], 1, 0.1, 0.2) };
  const lr = b.input("lr", [1]);
  const grads = new Map<string, ReturnType<GraphBuilder["input"]>>();
  for (const [i, name] of ["a", "c", "d"].entries()) {
    feeds[`x${name}`] = tensor([3, 8], 20 + i);
    grads.set(name, b.sum(b.input(`x${name}`, [3, 8]), 0));
  }
  feeds.w = tensor([8, 8], 30);
  grads.set("b", b.reshape(b.matmul(b.reshape(grads.get("a")!, [1, 8]), b.input("w", [8, 8])), [8]));
  for (const [i, name] of ["a", "b", "c", "d"].entries()) {
    feeds[name] = tensor([8], 40 + i);
    b.output(`new.${name}`, b.sub(b.param(name, [8]), b.mul(grads.get(name)!, lr)));
  }
  return { graph: b.build(), feeds };
}

/** Two steps on the device against the reference interpreter (gpu-harness.ts), within `limits`. */
async function expectTwoStepsMatchReference(graph: Graph, feeds: Record<string, Tensor>, limits: typeof WIDE, inspect: (c: CompiledGraph) => void, rtol?: number): Promise<void> {
  if (typeof gpu === "string") return;
  await expectGraphMatchesReference(gpu, graph, feeds, { hardware: false, limits, steps: 2, inspect, ...(rtol !== undefined ? { rtol } : {}) });
}

/**
 * Counters of one element each, all adding the same constant 1 (BatchNorm's num_batches_tracked),
 * and a sum of the same code adding a value of its own (the training loop's loss sum).
 */
function counters(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = { loss: { shape: [], data: Float32Array.of(0.25) }, sum: { shape: [], data: Float32Array.of(3) } };
  for (let i = 0; i < 3; i++) {
    feeds[`n${i}`] = { shape: [], data: Float32Array.of(10 * i) };
    b.output(`new.n${i}`, b.add(b.buffer(`n${i}`, []), 1));
  }
  b.output("new.sum", b.add(b.buffer("sum", []), b.input("loss", [])));
  return { graph: b.build(), feeds };
}

/** States replaced by values that do not read them (new.sI = sin(xI) * 2): no write in place. */
function replacedStates(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  for (let i = 0; i < 3; i++) {
    feeds[`s${i}`] = tensor([10 + 30 * i], 80 + i);
    feeds[`x${i}`] = tensor([10 + 30 * i], 90 + i);
    b.buffer(`s${i}`, [10 + 30 * i]);
    b.output(`new.s${i}`, b.mul(b.sin(b.input(`x${i}`, [10 + 30 * i])), 2));
  }
  return { graph: b.build(), feeds };
}

/** Two updates new.aI = aI * 0.5 + xI, then, later in the graph, a kernel that reads a0 as it was. */
function lateReader(): { graph: Graph; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const a = [0, 1].map((i) => {
    feeds[`a${i}`] = tensor([40], 60 + i);
    feeds[`x${i}`] = tensor([40], 70 + i);
    const ai = b.param(`a${i}`, [40]);
    b.output(`new.a${i}`, b.add(b.mul(ai, 0.5), b.sin(b.input(`x${i}`, [40]))));
    return ai;
  });
  b.output("late", b.mul(b.exp(a[0]), 2));
  return { graph: b.build(), feeds };
}

describe.skipIf(typeof gpu === "string")("stacked state updates on the device", () => {
  it("copies a stack's writes that replace states it does not read in one copy, padding and all", async () => {
    const { graph, feeds } = replacedStates();
    await expectTwoStepsMatchReference(graph, feeds, WIDE, (c) => {
      const [k, ...more] = stacks(c);
      expect(more).toHaveLength(0);
      expect(k.stack!.inPlace).toBeUndefined();
      const copies = stateCopies(graph, c.plan);
      expect(copies).toHaveLength(1);
      expect(copies[0].from).toMatchObject({ kind: "slot", offset: 0, size: k.stack!.bytes });
      expect(copies[0].to.size).toBe(k.stack!.bytes);
    });
  });

  it("runs a stack that writes its sources in place after every kernel that reads them", async () => {
    const { graph, feeds } = lateReader();
    await expectTwoStepsMatchReference(graph, feeds, WIDE, (c) => {
      const [k] = stacks(c);
      expect(k.stack!.inPlace).toHaveLength(2);
      const late = c.kernels.findIndex((x) => x.output === graph.outputs.find((o) => o.name === "late")!.value);
      expect(late).toBeLessThan(c.kernels.indexOf(k));
    });
  });

  it("counts one-element counters in one kernel that reads their shared constant at 0; the sum adding its own value stays apart", async () => {
    const { graph, feeds } = counters();
    await expectTwoStepsMatchReference(graph, feeds, WIDE, (c) => {
      const [k, ...more] = stacks(c);
      expect(more).toHaveLength(0);
      expect(c.kernels.filter((x) => x.label === "add")).toHaveLength(1);
      expect(k.stack!.bindings.map((r) => r.length)).toEqual([1, 3]); // the 1, then the counters written in place
      expect(k.source.code).toContain("in0[0]");
      expect(k.source.code).toContain("out[i]");
    });
  });

  it.each([
    ["16 bindings (one stacked kernel)", WIDE, 1],
    ["8 bindings (three stacked kernels)", { maxStorageBuffersPerShaderStage: 8 }, 3],
  ])("Adam over parameters of four sizes, %s, equals the reference interpreter over two steps", async (_, limits, expected) => {
    const { graph, feeds } = adamStep();
    await expectTwoStepsMatchReference(graph, feeds, limits, (c) => expect(stacks(c)).toHaveLength(expected));
  });

  it("leaves out the members whose run another kernel would read and write, and still equals the reference", async () => {
    const { graph, feeds } = chainedGradients();
    const names = new Map(graph.outputs.map((o) => [o.value, o.name]));
    await expectTwoStepsMatchReference(graph, feeds, WIDE, (c) => {
      const ks = stacks(c);
      expect(ks).toHaveLength(1);
      const out = ks[0].stack!.bindings[ks[0].inputs.length];
      expect(out.map((id) => names.get(id))).toEqual(["new.c", "new.d"]);
    });
  });

  it("a whole training step with an EMA and the loss sum, within 8 bindings, equals the reference over two steps", { timeout: 120_000 }, async () => {
    const model = tinyModel();
    const c = compile(model, { batch: 2, mode: "step", ema: true, lossSum: true });
    const init = initParameters(model, 5);
    const hyper: Record<string, number> = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-5, weight_decay: 1e-3, step: 1, ema_decay: 0.9 };
    const feeds: Record<string, Tensor> = {};
    let seed = 200;
    for (const n of c.graph.nodes) {
      if (!isSource(n)) continue;
      const emaOf = n.name.startsWith("ema.") ? init.get(n.name.slice(4)) : undefined;
      if (init.has(n.name) || emaOf) feeds[n.name] = init.get(n.name) ?? emaOf!;
      else if (n.name in hyper) feeds[n.name] = { shape: [...n.shape], data: Float32Array.of(hyper[n.name]) };
      else if (n.dtype === "i32") feeds[n.name] = { shape: [...n.shape], data: Int32Array.from({ length: numel(n.shape) }, (_, i) => i % 2) };
      else feeds[n.name] = tensor([...n.shape], seed++, n.name.startsWith("adam.v") ? 0 : -1, 1);
    }
    await expectTwoStepsMatchReference(c.graph, feeds, { maxStorageBuffersPerShaderStage: 8 }, (compiled) => {
      // the optimizer's three stacks, and the EMA's: one over the parameters, reading their run as the optimizer wrote it
      const ks = stacks(compiled);
      const writes = new Set(ks.flatMap((k) => k.stack!.bindings.slice(k.inputs.length).map((r) => r.join(","))));
      const ema = ks.filter((k) => k.stack!.bindings.slice(k.inputs.length).some((r) => r.length > 1 && compiled.graph.outputs.find((o) => o.value === r[0])!.name.startsWith("new.ema.")));
      expect(ema.length).toBeGreaterThan(0);
      expect(ema.some((k) => k.stack!.bindings.slice(0, k.inputs.length).some((r) => r.length > 1 && writes.has(r.join(","))))).toBe(true);
    }, 2e-4);
  });
});

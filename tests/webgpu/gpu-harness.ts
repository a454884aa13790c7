// Test support for WebGPU: one device per test file, a clear skip reason when no adapter can be
// had (CI installs lavapipe, so there it must exist: UNETC_REQUIRE_GPU=1 turns a skip into a
// failure), and helpers that check one op's kernel, or a whole graph's outputs, against the
// reference interpreter.
import { expect } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { DType, Graph, Shape } from "../../compiler/ir/types.js";
import type { OpKind, OpParams } from "../../compiler/ir/kinds.js";
import type { Value } from "../../compiler/ir/value.js";
import { runGraph } from "../../runtime/reference/index.js";
import { newName, replacedSource } from "../../compiler/ir/step-contract.js";
import { compileGraph, type CompiledGraph, type DeviceLimits } from "../../compiler/compile.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { acquireDevice, deviceTarget, type GpuContext } from "../../runtime/webgpu/device.js";
import { Rng } from "../../runtime/diffusion/rng.js";

let gpu: Promise<GpuContext | string> | undefined;

/** The device, or the reason there is none. */
export function getGpu(): Promise<GpuContext | string> {
  gpu ??= acquireDevice().catch((err: Error) => {
    if (process.env.UNETC_REQUIRE_GPU === "1") throw err;
    return `no WebGPU adapter: ${err.message}`;
  });
  return gpu;
}

/** Seeded uniform values in [lo, hi) (mulberry32), so failures reproduce. */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

export interface InputSpec {
  shape: Shape;
  dtype?: DType;
  /** Value range for random floats (default [-1, 1)); for i32, indices in [0, hi). */
  range?: [number, number];
  data?: Float32Array | Int32Array;
}

/**
 * Builds a graph with `op` on fresh inputs, runs it on the GPU and on the reference interpreter,
 * and compares: max |gpu - ref| <= atol + rtol * max |ref|.
 */
export async function expectKernelMatchesReference<K extends OpKind>(
  ctx: GpuContext,
  op: K,
  inputs: InputSpec[],
  params: OpParams<K>,
  tol: { rtol?: number; atol?: number; seed?: number } = {},
): Promise<void> {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const vals: Value[] = inputs.map((spec, i) => {
    const dtype = spec.dtype ?? "f32";
    const n = spec.shape.reduce((a, c) => a * c, 1);
    const [lo, hi] = spec.range ?? [-1, 1];
    const data = spec.data ?? (dtype === "i32" ? Int32Array.from(randomData(n, (tol.seed ?? 7) + i, 0, hi), Math.floor) : randomData(n, (tol.seed ?? 7) + i, lo, hi));
    feeds[`in${i}`] = { shape: [...spec.shape], data };
    return b.input(`in${i}`, spec.shape, dtype);
  });
  b.output("out", b.op(op, vals, params));
  const graph = b.build();
  const ref = runGraph(graph, feeds).outputs.out;
  const exec = await GraphExecutor.create(ctx, compileGraph(graph, deviceTarget(ctx)));
  try {
    for (const [name, t] of Object.entries(feeds)) exec.write(name, t);
    exec.run();
    const got = await exec.read("out");
    expect([...got.shape]).toEqual([...ref.shape]);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.data.length; i++) {
      diff = Math.max(diff, Math.abs(got.data[i] - ref.data[i]));
      scale = Math.max(scale, Math.abs(ref.data[i]));
    }
    const bound = (tol.atol ?? 1e-6) + (tol.rtol ?? 1e-5) * scale;
    expect(diff, `${op} ${JSON.stringify(inputs.map((s) => s.shape))} ${JSON.stringify(params)}: max diff ${diff} > ${bound}`).toBeLessThanOrEqual(bound);
  } finally {
    exec.destroy();
  }
}

/**
 * Runs a whole graph compiled for the device (with `opts` over its target: `limits` in place of
 * the device's) and on the reference interpreter, `steps` times (default 1; each `new.X` output
 * is the next step's X on both), and checks every output of the last step and every source a
 * `new.X` replaced: the same shape, max |gpu - ref| < atol (or < rtol * max |ref|, at least 1e-3,
 * where `rtol` is given). Returns nothing; the compiled program goes to `inspect` first, for
 * checks on its schedule.
 */
export async function expectGraphMatchesReference(
  ctx: GpuContext,
  graph: Graph,
  feeds: Record<string, Tensor>,
  opts: { hardware?: boolean; atol?: number; rtol?: number; steps?: number; limits?: Partial<DeviceLimits>; inspect?: (c: CompiledGraph) => void } = {},
): Promise<void> {
  const steps = opts.steps ?? 1;
  const compiled = compileGraph(graph, { ...deviceTarget(ctx), ...(opts.hardware !== undefined ? { hardware: opts.hardware } : {}), ...(opts.limits ? { limits: opts.limits } : {}) });
  opts.inspect?.(compiled);
  const exec = await GraphExecutor.create(ctx, compiled);
  try {
    for (const [name, t] of Object.entries(feeds)) exec.write(name, t);
    let state = { ...feeds };
    let ref: Record<string, Tensor> = {};
    for (let s = 0; s < steps; s++) {
      exec.run();
      ref = runGraph(graph, state).outputs;
      const replaced = Object.entries(ref).flatMap(([name, t]) => {
        const source = replacedSource(name);
        return source !== undefined && source in state ? [[source, t] as const] : [];
      });
      state = { ...state, ...Object.fromEntries(replaced) };
    }
    const expectClose = (want: Tensor, got: Tensor, what: string) => {
      expect([...got.shape], what).toEqual([...want.shape]);
      const diff = Math.max(...Array.from(want.data, (v, i) => Math.abs(v - got.data[i])));
      const bound = opts.rtol !== undefined ? opts.rtol * Math.max(1e-3, ...Array.from(want.data, Math.abs)) : (opts.atol ?? 1e-5);
      expect(diff, `${what} (hardware: ${String(opts.hardware ?? "the device's")}, ${steps} step${steps === 1 ? "" : "s"})`).toBeLessThan(bound);
    };
    for (const o of graph.outputs) expectClose(ref[o.name], await exec.read(o.name), o.name);
    // the state copies put each new value where the next step reads it
    for (const name of Object.keys(feeds).filter((n) => newName(n) in ref)) expectClose(state[name], await exec.read(name), name);
  } finally {
    exec.destroy();
  }
}

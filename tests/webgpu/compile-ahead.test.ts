// Compiling every pipeline before the first step (runtime/webgpu/compile-ahead.ts): which
// devices compile ahead and how many helpers they get; on lavapipe, that every distinct pipeline
// is compiled once, split between the main device (from the front) and its helpers (from the
// back); that a failing helper leaves its share to the main device; that a mistake in the
// placeholder bindings is reported as an internal error; and that a program compiled ahead still
// computes what the reference interpreter does. And, in a process of its own on an empty Mesa
// shader cache, that the first run of a program compiled ahead compiles nothing more.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph, type CompiledGraph } from "../../compiler/compile.js";
import { runGraph } from "../../runtime/reference/index.js";
import { deviceTarget, type GpuContext } from "../../runtime/webgpu/device.js";
import { aheadKernels, compileAhead, compileHelperCount, compileHelpers, compilesAhead } from "../../runtime/webgpu/compile-ahead.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { PipelineCache } from "../../runtime/webgpu/pipelines.js";
import { getGpu, randomData } from "./gpu-harness.js";

const fakeCtx = (isSoftware: boolean) => ({ adapterInfo: { isSoftware } }) as unknown as GpuContext;

describe("where pipelines are compiled ahead", () => {
  it("on a software adapter only, unless UNETC_COMPILE_AHEAD turns it off", () => {
    expect(compilesAhead(fakeCtx(true), {})).toBe(true);
    expect(compilesAhead(fakeCtx(false), {})).toBe(false);
    expect(compilesAhead(fakeCtx(true), { UNETC_COMPILE_AHEAD: "0" })).toBe(false);
    expect(compilesAhead(fakeCtx(true), { UNETC_COMPILE_AHEAD: "off" })).toBe(false);
    expect(compilesAhead(fakeCtx(true), { UNETC_COMPILE_AHEAD: "1" })).toBe(true);
  });

  it("with a helper device per core but one, capped, and none where Mesa's shader cache is off", () => {
    expect(compileHelperCount(fakeCtx(true), {}, 2)).toBe(1);
    expect(compileHelperCount(fakeCtx(true), {}, 1)).toBe(0);
    expect(compileHelperCount(fakeCtx(true), {}, 64)).toBe(7);
    expect(compileHelperCount(fakeCtx(false), {}, 16)).toBe(0);
    expect(compileHelperCount(fakeCtx(true), { MESA_SHADER_CACHE_DISABLE: "true" }, 16)).toBe(0);
    expect(compileHelperCount(fakeCtx(true), { MESA_SHADER_CACHE_DISABLE: "false" }, 16)).toBe(7);
    expect(compileHelperCount(fakeCtx(true), { UNETC_COMPILE_AHEAD: "0" }, 16)).toBe(0);
  });
});

const gpu = await getGpu();
const software = typeof gpu !== "string" && gpu.adapterInfo.isSoftware;

/** A graph of several distinct kernels: two GEMMs of other shapes, a softmax, a reduction, elementwise work. */
function program(ctx: GpuContext): CompiledGraph {
  const b = new GraphBuilder();
  const x = b.input("x", [16, 24]);
  const w = b.input("w", [24, 32]);
  const v = b.input("v", [32, 8]);
  const h = b.relu(b.matmul(x, w));
  const p = b.softmax(b.matmul(h, v));
  b.output("p", p);
  b.output("s", b.sum(b.exp(h), 1));
  return compileGraph(b.build(), deviceTarget(ctx));
}

describe.skipIf(!software)("compiling ahead on lavapipe", () => {
  it("compiles each distinct pipeline once, the main device from the front and its helpers from the back", { timeout: 60_000 }, async () => {
    if (typeof gpu === "string") return;
    const kernels = aheadKernels(program(gpu));
    const distinct = new Set(kernels.map((k) => k.code)).size;
    expect(distinct).toBeGreaterThanOrEqual(3);
    const helpers = await compileHelpers(gpu);
    expect(helpers.length).toBe(compileHelperCount(gpu));
    const pipelines = new PipelineCache(gpu.device);
    const report = await compileAhead(pipelines, helpers, [...kernels, ...kernels]);
    expect(report.main + report.helpers).toBe(distinct);
    expect(report.main).toBeGreaterThan(0);
    if (helpers.length) expect(report.helpers).toBeGreaterThan(0);
    // the main device's share is in its cache, for the program to dispatch; the helpers' is not
    expect(pipelines.size).toBe(report.main);
    // a second program of the same kernels on the same cache has nothing left to compile
    expect(await compileAhead(pipelines, helpers, kernels)).toMatchObject({ main: 0, helpers: 0 });
  });

  it("leaves a failing helper's share to the main device", { timeout: 60_000 }, async () => {
    if (typeof gpu === "string") return;
    const kernels = aheadKernels(program(gpu));
    const distinct = new Set(kernels.map((k) => k.code)).size;
    const broken = {
      createShaderModule: () => {
        throw new Error("device lost");
      },
    } as unknown as GPUDevice;
    const report = await compileAhead(new PipelineCache(gpu.device), [broken], kernels);
    expect(report).toEqual({ main: distinct, helpers: 0, devices: 1 });
  });

  it("reports placeholder bindings the pipeline does not accept as an internal error", { timeout: 60_000 }, async () => {
    if (typeof gpu === "string") return;
    const [first] = aheadKernels(program(gpu));
    const wrong = { ...first, storageBindings: first.storageBindings - 1 };
    await expect(compileAhead(new PipelineCache(gpu.device), [], [wrong])).rejects.toThrow(/internal error: compiling .* ahead/);
  });

  it("gives an executor whose every pipeline was compiled before its first run, computing what the reference does", { timeout: 60_000 }, async () => {
    if (typeof gpu === "string") return;
    const c = program(gpu);
    const exec = await GraphExecutor.create(gpu, c);
    try {
      expect(exec.stats.ahead).toBeDefined();
      expect(exec.stats.ahead!.main + exec.stats.ahead!.helpers).toBe(exec.stats.pipelines);
      const inputs = new Map([
        ["x", { shape: [16, 24], data: randomData(16 * 24, 1) }],
        ["w", { shape: [24, 32], data: randomData(24 * 32, 2) }],
        ["v", { shape: [32, 8], data: randomData(32 * 8, 3) }],
      ]);
      for (const [name, t] of inputs) exec.write(name, t);
      exec.run();
      const want = runGraph(c.graph, inputs);
      for (const name of ["p", "s"]) {
        const got = (await exec.read(name)).data;
        const ref = want.outputs[name].data;
        for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
      }
    } finally {
      exec.destroy();
    }
  });
});

interface ChildReport {
  pipelines: number;
  ahead: { main: number; helpers: number; devices: number } | null;
  created: number;
  ran: number;
}

/** compile-ahead-child.ts in a fresh process on an empty Mesa shader cache. */
function firstRun(env: NodeJS.ProcessEnv): ChildReport {
  const cache = mkdtempSync(join(tmpdir(), "unetc-mesa-cache-"));
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", "tests/webgpu/compile-ahead-child.ts"], { encoding: "utf8", env: { ...process.env, ...env, MESA_SHADER_CACHE_DIR: cache } });
    if (r.status !== 0) throw new Error(`compile-ahead-child failed (${r.status}):\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildReport;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

describe.skipIf(!software || process.env.MESA_SHADER_CACHE_DISABLE)("a program's first run after compiling ahead, on an empty shader cache", () => {
  it("compiles nothing (it adds nothing to Mesa's cache), where without compiling ahead it compiles every pipeline", { timeout: 120_000 }, () => {
    const lazy = firstRun({ UNETC_COMPILE_AHEAD: "0" });
    // the premise: llvmpipe compiles at a pipeline's first dispatch, and caches what it compiled
    expect(lazy.ahead).toBeNull();
    expect(lazy.ran).toBeGreaterThan(lazy.created);
    const ahead = firstRun({ UNETC_COMPILE_AHEAD: "1" });
    expect(ahead.ahead!.main + ahead.ahead!.helpers).toBe(ahead.pipelines);
    expect(ahead.ran).toBe(ahead.created);
    // the shaders were in the cache before the first run, where creating alone caches none
    expect(ahead.created).toBeGreaterThan(lazy.created);
  });
});

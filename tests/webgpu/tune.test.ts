// GEMM tiles tuned per adapter: the tile cache (runtime/webgpu/tile-cache.ts) reads only entries
// that parse and fit the adapter and never fails a compile over a bad file; a tuned table
// reaches the kernels by signature; every candidate the tuner may choose computes the step the
// reference interpreter computes; and `unetc tune`'s run (runtime/session/tune.ts) writes a
// table that later compiles on this adapter use.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { compile, kernelLimits, tileCandidates, type TileTable } from "../../compiler/compile.js";
import { LOSS } from "../../compiler/ir/step-contract.js";
import type { GemmTiles } from "../../compiler/wgsl/tiles.js";
import { adapterKey, loadTiles, tileFileWith, TILES_FORMAT, type AdapterIdentity } from "../../runtime/webgpu/tile-cache.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { Rng } from "../../runtime/session/rng.js";
import { tuneStep } from "../../runtime/session/tune.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();
const dir = mkdtempSync(join(tmpdir(), "unetc-tiles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const adapter: AdapterIdentity = { vendor: "v", architecture: "a", device: "d", description: "test adapter", backend: "vulkan", subgroupMinSize: 8 };
const software = { maxWorkgroupsPerDimension: 65535, hardware: false, subgroupMinSize: 8 };
const wide: GemmTiles = { bm: 16, bn: 32, bk: 1, tm: 16, tn: 4, direct: true, broadcast: true };
const envIn = (name: string) => ({ UNETC_CACHE_DIR: join(dir, name) });

const model = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=2", "attn_start=1", "classes=3"] }).graph!;

describe("the tile cache", () => {
  it("has nothing where no file is; stores a run's choices per adapter and reads them back", () => {
    const env = envIn("a");
    expect(loadTiles(adapter, software, env)).toMatchObject({ table: {}, warnings: [] });
    const text = tileFileWith(adapter, { "conv2d 1x8x64x36 #00000000": wide }, ["conv2d 1x8x64x36 #00000000", "matmul 1x4x4x4 #00000000"], env);
    expect(JSON.parse(text)).toEqual({ format: TILES_FORMAT, adapters: { [adapterKey(adapter)]: { "conv2d 1x8x64x36 #00000000": wide } } });
    mkdirSync(join(dir, "a"), { recursive: true });
    writeFileSync(join(dir, "a", "tiles.json"), text);
    expect(loadTiles(adapter, software, env).table).toEqual({ "conv2d 1x8x64x36 #00000000": wide });
    // another adapter sees none of it; a new run's default for a signature removes its entry
    expect(loadTiles({ ...adapter, description: "other driver" }, software, env).table).toEqual({});
    expect(JSON.parse(tileFileWith(adapter, {}, ["conv2d 1x8x64x36 #00000000"], env)).adapters[adapterKey(adapter)]).toEqual({});
    expect(loadTiles(adapter, software, { ...env, UNETC_TILES: "default" }).table).toEqual({});
  }, 10_000);

  it("skips entries that do not parse or do not fit the adapter, and ignores a file that does not parse, with a warning", () => {
    const env = envIn("b");
    mkdirSync(join(dir, "b"), { recursive: true });
    const path = join(dir, "b", "tiles.json");
    const entries = { ok: wide, junk: { bm: "16" }, huge: { ...wide, tm: 4096 }, unstaged: { bm: 64, bn: 64, bk: 64, tm: 4, tn: 4 } };
    writeFileSync(path, JSON.stringify({ format: TILES_FORMAT, adapters: { [adapterKey(adapter)]: entries } }));
    const loaded = loadTiles(adapter, software, env);
    expect(loaded.table).toEqual({ ok: wide });
    expect(loaded.warnings.join("\n")).toMatch(/ignoring 3 tuned tile entries in .*tiles\.json that do not fit/);
    // broadcast rows without subgroups do not fit either
    expect(loadTiles(adapter, { ...software, subgroupMinSize: 0 }, env).table).toEqual({});
    for (const bad of ["{", "[]", JSON.stringify({ format: "other", adapters: {} })]) {
      writeFileSync(path, bad);
      const r = loadTiles(adapter, software, env);
      expect(r.table).toEqual({});
      expect(r.warnings[0]).toMatch(/^ignoring the tuned tiles in .*tiles\.json: /);
    }
  });

  it("a tuned table reaches the GEMM kernels it names, and only those", () => {
    const plain = compile(model, { batch: 2, mode: "step", ...software });
    const gemms = plain.kernels.filter((k) => k.source.gemm);
    expect(gemms.length).toBeGreaterThan(5);
    const target = gemms[0].source.gemm!.signature;
    const tuned = compile(model, { batch: 2, mode: "step", ...software, tiles: { [target]: wide } });
    tuned.kernels.forEach((k, i) => {
      const g = k.source.gemm;
      if (!g) return;
      expect(g.tiles).toEqual(g.signature === target ? wide : plain.kernels[i].source.gemm!.tiles);
      if (g.signature === target) expect(k.source.code).toContain("direct tiles 16x32");
    });
  });
});

describe.skipIf(typeof gpu === "string")(`tuned tiles on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  /** Loss after one Adam step and the first conv's weight, with every GEMM given `tiles` (or the defaults). */
  async function oneStep(device: "webgpu" | "reference", tiles?: TileTable): Promise<number[]> {
    const session = await createStepSession(model, { batch: 3, optimizer: "adam", device, seed: 1, ...(tiles ? { tiles } : {}) });
    try {
      session.feedBatch(syntheticBatch(model, 3, new Rng(2)));
      session.setHyper({ lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0, step: 1 });
      session.runner.run();
      return [(await session.runner.read(LOSS)).data[0], ...(await session.runner.read("conv_in.weight")).data];
    } finally {
      session.runner.destroy();
    }
  }

  it("every candidate the tuner may choose computes the step the reference computes", { timeout: 300_000 }, async () => {
    if (typeof gpu === "string") return;
    const want = await oneStep("reference");
    const signatures = [...new Set(compile(model, { batch: 3, mode: "step", ...deviceTarget(gpu, { tiles: false }) }).kernels.flatMap((k) => (k.source.gemm ? [k.source.gemm.signature] : [])))];
    for (const c of tileCandidates(kernelLimits(deviceTarget(gpu, { tiles: false })))) {
      const got = await oneStep("webgpu", Object.fromEntries(signatures.map((s) => [s, c])));
      const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i]) / Math.max(1, Math.abs(want[i]))));
      expect(worst, JSON.stringify(c)).toBeLessThan(1e-4);
    }
  });

  it("`unetc tune` writes a table that the next compile on this adapter reads", { timeout: 300_000 }, async () => {
    if (typeof gpu === "string") return;
    const saved = { ...process.env };
    process.env.UNETC_CACHE_DIR = join(dir, "run");
    delete process.env.UNETC_TILES;
    try {
      const lines: string[] = [];
      const r = await tuneStep(model, { batch: 2, seed: 0, optimizer: "adam", warmup: 1, steps: 1, margin: 0.05, save: true }, (l) => lines.push(l));
      expect(r.rows.length).toBeGreaterThan(5);
      expect(r.candidates.length).toBeGreaterThan(1);
      expect(r.rows.every((row) => row.candidateMs.length === r.candidates.length && row.defaultMs > 0)).toBe(true);
      expect(lines.filter((l) => l.startsWith("timing the step with direct")).length).toBe(r.candidates.length);
      // a table is kept only where the step with all of it beat the defaults in the same run
      if (Object.keys(r.table).length) expect(r.confirmed && r.tuned.gemmMs < r.baseline.gemmMs).toBe(true);
      expect(loadTiles(gpu.adapterInfo, kernelLimits(deviceTarget(gpu, { tiles: false }))).table).toEqual(r.table);
      expect(deviceTarget(gpu).tiles ?? {}).toEqual(r.table);
    } finally {
      process.env = saved;
    }
  });
});

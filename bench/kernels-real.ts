// The GEMM kernels of the lesson's real training steps (bench/gemm-shapes.ts), timed on the
// current adapter with the old software default (TILES_64 / TILES_32), the current
// `defaultTiles` and, with --tiles all, every CPU candidate: one line per shape and tiles,
// with the ratio to the old default measured in the same run.
//
//   npx tsx bench/kernels-real.ts [--config S,M] [--batch 32] [--top N] [--tiles default|all] [--reps N] [--only OP] [--old no]
//
// --old no skips the old default (the staged tiles are slow on lavapipe), --old prev times the
// software default before subgroup broadcasts (prevDefault) in its place; the run ends with
// each op's total over the shapes timed, ms x count per step, for the current default tiles.
import { performance } from "node:perf_hooks";
import { acquireDevice, describeAdapter, deviceTarget } from "../runtime/webgpu/device.js";
import { kernelLimits } from "../compiler/compile.js";
import { PipelineCache } from "../runtime/webgpu/pipelines.js";
import type { KernelLimits } from "../compiler/wgsl/kernel.js";
import { TILES_32, TILES_64, defaultTiles, type GemmShape, type GemmTiles } from "../compiler/wgsl/gemm.js";
import { compileConfig, realGemms, shapeName } from "./gemm-shapes.js";
import { time, type Case } from "./kernels.js";

/** The software default before CPU tuning: 64x64 unless that leaves < 128 workgroups, then 32x32. */
export const oldDefault = ({ batch, m, n }: GemmShape): GemmTiles => (batch * Math.ceil(m / 64) * Math.ceil(n / 64) < 128 ? TILES_32 : TILES_64);

/** The software default before A's rows came by subgroupBroadcast (2026-12-03 to the broadcast tiles). */
export const prevDefault = ({ m, n }: GemmShape): GemmTiles => {
  const [bm, bn, tn] = n <= 8 ? [16, 8, 1] : n <= 16 ? [8, 16, 2] : [8, 32, 4];
  return direct(m >= bm ? bm : 2 ** Math.ceil(Math.log2(Math.max(1, m))), bn, tn);
};

const direct = (bm: number, bn: number, tn: number, broadcast = false): GemmTiles => ({ bm, bn, bk: 1, tm: bm, tn, direct: true, ...(broadcast ? { broadcast } : {}) });
export const CPU_CANDIDATES: GemmTiles[] = [
  direct(8, 16, 2), direct(8, 128, 2), direct(4, 256, 4), direct(4, 32, 4), direct(16, 8, 1),
  direct(8, 32, 4), direct(16, 16, 2), direct(8, 64, 2), direct(8, 8, 1),
  direct(32, 8, 1), direct(64, 8, 1), direct(32, 16, 2), direct(16, 32, 4),
];

const tileName = (t: GemmTiles) => (t.direct ? `direct ${t.bm}x${t.bn}/${t.tm}x${t.tn}${t.broadcast ? " bcast" : ""}` : `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}${t.unroll ? " unrolled" : ""}`);
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<void> {
  const ctx = await acquireDevice();
  console.log(describeAdapter(ctx));
  const software = ctx.adapterInfo.isSoftware;
  const limits: KernelLimits = kernelLimits(deviceTarget(ctx));
  const pipelines = new PipelineCache(ctx.device);
  const batch = Number(arg("batch") ?? 32);
  const top = Number(arg("top") ?? 12);
  const runs = Number(arg("reps") ?? 3);
  const all = arg("tiles") === "all";
  const only = arg("only");
  const every = Number(arg("every") ?? 1);
  const withOld = arg("old") !== "no";
  const totals = new Map<string, number>();
  const baseTotals = new Map<string, number>();
  const start = performance.now();
  for (const config of (arg("config") ?? "S,M").split(",")) {
    const gemms = realGemms(compileConfig(config, batch)).filter((g) => !only || g.op === only).slice(0, top).filter((_, i) => i % every === 0);
    console.log(`\n${config} batch ${batch}: top ${gemms.length} GEMMs by FLOPs x count`);
    for (const g of gemms) {
      const c: Case = { name: g.op, flops: g.flops, inputs: [...g.inputs], out: g.out, kernel: (l, t) => g.kernel(l, t), gemm: [g.shape.m, g.shape.n, g.shape.k] };
      const old = arg("old") === "prev" ? prevDefault(g.shape) : oldDefault(g.shape);
      const now = defaultTiles(g.shape, limits);
      const pick = arg("tiles")?.startsWith("direct:") ? arg("tiles")!.slice(7).split(";").map((x) => direct(...(x.split(",").slice(0, 3).map(Number) as [number, number, number]), x.endsWith(",b"))) : [];
      const list = pick.length ? pick : [...(withOld ? [old] : []), ...(now === old && withOld ? [] : [now]), ...(all ? CPU_CANDIDATES.filter((t) => t !== now) : [])];
      let base = 0;
      for (const tiles of list) {
        const c0 = performance.now();
        const t = await time(ctx, pipelines, c, c.kernel(limits, tiles), runs);
        const secs = (performance.now() - c0) / 1000;
        if (tiles === old || (!withOld && tiles === now)) base = t.wall;
        if (tiles === old) baseTotals.set(`${config} ${g.op}`, (baseTotals.get(`${config} ${g.op}`) ?? 0) + t.wall * g.count);
        if (tiles === now) totals.set(`${config} ${g.op}`, (totals.get(`${config} ${g.op}`) ?? 0) + t.wall * g.count);
        const label = tileName(tiles) + (tiles === old ? " (old)" : tiles === now ? " (new default)" : "");
        console.log(`${g.op.padEnd(27)} ${shapeName(g.shape).padEnd(27)} x${String(g.count).padEnd(3)} ${label.padEnd(34)} ${(t.wall * 1e3).toFixed(2).padStart(9)} ms ${(g.flops / t.wall / 1e9).toFixed(2).padStart(6)} GFLOP/s  ${(base / t.wall).toFixed(2).padStart(5)}x  (${secs.toFixed(1)} s with compile)`);
      }
    }
  }
  console.log(`\nper step (ms x count over the shapes timed): default tiles${withOld ? ", and the old default" : ""}`);
  for (const [k, v] of totals) console.log(`${k.padEnd(32)} ${(v * 1e3).toFixed(1).padStart(9)} ms${baseTotals.has(k) ? ` ${(baseTotals.get(k)! * 1e3).toFixed(1).padStart(9)} ms old` : ""}`);
  console.log(`\ntotal ${((performance.now() - start) / 1000).toFixed(1)} s`);
  ctx.device.destroy();
  process.exit(0);
}

await main();

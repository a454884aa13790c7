// `unetc tune`: GEMM tiles chosen per adapter by timing them in the real training step. The
// step is profiled (GPU timestamps per kernel, profile.ts) once with the default tiles, then
// once per candidate forced on every GEMM (compiler/wgsl/gemm.ts tileCandidates); each GEMM
// signature (op, sizes, gathers: gemmSignature) takes the candidate whose kernels summed least
// where it beats the default by more than `margin`, and a last profile with the chosen table
// measures the gain in the same run. The table goes to the tile cache (runtime/webgpu/tile-
// cache.ts), which every later compile on this adapter reads; a GEMM it does not name keeps
// the default. Timing inside the step, not in isolation, keeps each kernel's epilogue, its
// neighbours' cache state and the dispatch pattern it really runs in.
import { kernelLimits, tileCandidates, type GemmTiles, type OptimizerKind, type TileTable } from "../../compiler/compile.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { writeFileAtomic } from "../data/atomic-write.js";
import { acquireDevice, deviceTarget, forgetTunedTiles } from "../webgpu/device.js";
import { tileCachePath, tileFileWith } from "../webgpu/tile-cache.js";
import { profileStep, type Profile, type ProfileOptions } from "./profile.js";

export interface TuneOptions {
  readonly batch: number;
  readonly seed: number;
  readonly optimizer: OptimizerKind;
  /** Unprofiled steps before each profile (a first step is slower). */
  readonly warmup: number;
  /** Profiled steps per configuration (each kernel's median over them). */
  readonly steps: number;
  /** A candidate replaces the default only when faster by more than this fraction (noise). */
  readonly margin: number;
  /** Write the chosen tiles to the tile cache. */
  readonly save: boolean;
}

/** One GEMM signature: its kernels' summed time with the default tiles and with each candidate. */
export interface TuneRow {
  readonly signature: string;
  readonly op: string;
  /** Kernels of the step with this signature (epilogues differ, tiles do not). */
  readonly kernels: number;
  readonly flops: number;
  readonly defaultTiles: GemmTiles;
  readonly defaultMs: number;
  /** Per candidate, in TuneResult.candidates' order. */
  readonly candidateMs: readonly number[];
  /** The candidate chosen, or null where the default stays. */
  readonly chosen: GemmTiles | null;
}

/** A step's time in one configuration. */
export interface TuneRun {
  /** GEMM kernels summed (medians), ms. */
  readonly gemmMs: number;
  /** Every kernel summed, ms. */
  readonly kernelMs: number;
  /** The first warm-up step's wall time, ms (shader compilation, with Mesa's shader cache as earlier runs left it). */
  readonly firstStepMs: number;
}

export interface TuneResult {
  readonly model: string;
  readonly batch: number;
  readonly adapter: string;
  readonly candidates: readonly GemmTiles[];
  readonly rows: readonly TuneRow[];
  readonly table: TileTable;
  /** Default tiles, then the chosen table, profiled in this run. */
  readonly baseline: TuneRun;
  /** The chosen tiles' step; when it was not faster than the default's, `table` is empty. */
  readonly tuned: TuneRun;
  /** Whether the chosen tiles' step beat the default's (else the defaults were kept). */
  readonly confirmed: boolean;
  /** Where the table was written (save), or would be. */
  readonly path: string;
  readonly saved: boolean;
}

/** A short name of a tile configuration, as the kernels' headers print it. */
export function tilesName(t: GemmTiles): string {
  return t.direct ? `direct ${t.bm}x${t.bn}/${t.tm}x${t.tn}${t.broadcast ? " bcast" : ""}` : `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}${t.unroll ? " unrolled" : ""}`;
}

const sameTiles = (a: GemmTiles, b: GemmTiles): boolean => tilesName(a) === tilesName(b);

/** GEMM kernels' summed median time per signature, and the step's totals. */
function timesOf(p: Profile): { bySignature: Map<string, number>; run: TuneRun } {
  const timing = p.timing;
  if (!timing) throw new UserError(`cannot tune on this adapter: ${p.unavailable ?? "the step could not be timed"}`);
  const bySignature = new Map<string, number>();
  let gemmMs = 0;
  for (const k of timing.kernels) {
    if (!k.gemm) continue;
    bySignature.set(k.gemm.signature, (bySignature.get(k.gemm.signature) ?? 0) + k.ms);
    gemmMs += k.ms;
  }
  return { bySignature, run: { gemmMs, kernelMs: timing.kernelMs, firstStepMs: timing.warmupMs[0] ?? 0 } };
}

export async function tuneStep(model: ModelGraph, o: TuneOptions, progress: (line: string) => void): Promise<TuneResult> {
  const gpu = await acquireDevice();
  const candidates = tileCandidates(kernelLimits(deviceTarget(gpu, { tiles: false })));
  const profileOptions: ProfileOptions = { batch: o.batch, steps: o.steps, warmup: Math.max(1, o.warmup), seed: o.seed, optimizer: o.optimizer, lr: 1e-3, opt: 1 };
  const quiet = () => {};
  const profile = async (what: string, tiles: TileTable): Promise<Profile> => {
    progress(`timing the step with ${what}`);
    return profileStep(model, { ...profileOptions, tiles }, quiet);
  };

  // The first run finds the step's GEMMs and warms everything a first run pays for (the driver,
  // Mesa's shader cache, the allocator); the default is timed again after the candidates, so
  // neither side of a comparison is the process's first.
  const first = await profile("the default tiles (finding the GEMMs)", {});
  const gemms = new Map<string, { op: string; kernels: number; flops: number; tiles: GemmTiles }>();
  for (const k of first.timing?.kernels ?? []) {
    if (!k.gemm) continue;
    const g = gemms.get(k.gemm.signature) ?? { op: k.gemm.signature.split(" ")[0], kernels: 0, flops: 0, tiles: k.gemm.tiles };
    gemms.set(k.gemm.signature, { ...g, kernels: g.kernels + 1, flops: g.flops + k.flops });
  }
  const firstTimes = timesOf(first); // an adapter without timestamps stops here, with the profile's reason
  const signatures = [...gemms.keys()];

  const candidateTimes: Map<string, number>[] = [];
  for (const c of candidates) {
    const forced = Object.fromEntries(signatures.map((s) => [s, c]));
    candidateTimes.push(timesOf(await profile(tilesName(c), forced)).bySignature);
  }

  const base = await profile("the default tiles", {});
  const baseTimes = timesOf(base);
  const table: Record<string, GemmTiles> = {};
  const rows: TuneRow[] = signatures.map((signature) => {
    const g = gemms.get(signature)!;
    // the better of the default's two runs: a candidate must beat the default at its best
    const defaultMs = Math.min(baseTimes.bySignature.get(signature) ?? 0, firstTimes.bySignature.get(signature) ?? Number.POSITIVE_INFINITY);
    const candidateMs = candidateTimes.map((t) => t.get(signature) ?? Number.POSITIVE_INFINITY);
    const best = candidateMs.reduce((bi, ms, i) => (ms < candidateMs[bi] ? i : bi), 0);
    const wins = candidates.length > 0 && candidateMs[best] < defaultMs * (1 - o.margin) && !sameTiles(candidates[best], g.tiles);
    if (wins) table[signature] = candidates[best];
    return { signature, op: g.op, kernels: g.kernels, flops: g.flops, defaultTiles: g.tiles, defaultMs, candidateMs, chosen: wins ? candidates[best] : null };
  });
  rows.sort((a, b) => b.defaultMs - a.defaultMs);

  const chosen = Object.keys(table).length;
  const tuned = chosen ? timesOf(await profile(`the chosen tiles (${chosen} of ${signatures.length} GEMMs)`, table)).run : baseTimes.run;
  // The per-GEMM choices come from separate runs; the step with all of them must confirm the
  // gain against the default in this run, or the default stays (a loaded machine's timings can
  // mislead one run and not the next).
  const confirmed = chosen === 0 || tuned.gemmMs < baseTimes.run.gemmMs * (1 - o.margin / 2);
  if (!confirmed) {
    progress(`the chosen tiles took ${tuned.gemmMs.toFixed(1)} ms of GEMMs against ${baseTimes.run.gemmMs.toFixed(1)} ms with the defaults: keeping the defaults (was the machine busy?)`);
    for (const k of Object.keys(table)) delete table[k];
  }
  const path = tileCachePath();
  if (o.save) {
    try {
      await writeFileAtomic(path, new TextEncoder().encode(tileFileWith(gpu.adapterInfo, table, signatures)));
    } catch (err) {
      throw new UserError(`cannot write the tuned tiles to ${path}: ${(err as Error).message} (set UNETC_CACHE_DIR to a writable folder, or use --dry-run)`);
    }
    forgetTunedTiles(gpu);
  }
  const shown = confirmed ? rows : rows.map((row) => ({ ...row, chosen: null }));
  return { model: model.name, batch: o.batch, adapter: base.adapter.split("\n")[0], candidates, rows: shown, table, baseline: baseTimes.run, tuned, confirmed, path, saved: o.save };
}

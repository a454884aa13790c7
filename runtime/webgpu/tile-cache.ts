// GEMM tiles tuned per adapter (`unetc tune`, runtime/session/tune.ts), kept on disk so that a
// tuning run pays once and every later compile on the same adapter uses its choices:
//
//   $UNETC_CACHE_DIR/tiles.json (default $XDG_CACHE_HOME/unetc, else ~/.cache/unetc)
//   { "format": "unetc-tiles/1", "adapters": { "<adapter key>": { "<gemm signature>": tiles } } }
//
// The adapter key names the driver and its version (lavapipe's description carries Mesa's and
// LLVM's), so a driver update starts untuned. Entries that do not parse or do not fit the
// adapter are skipped with one warning; a file that does not parse is ignored (and replaced by
// the next tuning run), never a reason to fail a compile. UNETC_TILES=default ignores the file.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { tilesFit } from "../../compiler/wgsl/gemm.js";
import type { KernelLimits } from "../../compiler/wgsl/kernel.js";
import type { GemmTiles, TileTable } from "../../compiler/wgsl/tiles.js";

/** What names an adapter and its driver (device.ts's AdapterSummary has these). */
export interface AdapterIdentity {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly backend: string;
  readonly subgroupMinSize: number;
}

export const TILES_FORMAT = "unetc-tiles/1";

interface TileFile {
  readonly format: string;
  readonly adapters: Record<string, Record<string, GemmTiles>>;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.UNETC_CACHE_DIR) return env.UNETC_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "unetc");
}

export const tileCachePath = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), "tiles.json");

/** One adapter and driver: what a tuned choice holds for. */
export function adapterKey(a: AdapterIdentity): string {
  return [a.vendor, a.architecture, a.device, a.description, a.backend, `subgroups ${a.subgroupMinSize}`].join(" | ");
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 1024;
const optionalFlag = (v: unknown): boolean => v === undefined || typeof v === "boolean";

/** A stored entry as GemmTiles, or null where it is not one. */
function parseTiles(v: unknown): GemmTiles | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (![o.bm, o.bn, o.bk, o.tm, o.tn].every(isCount) || ![o.unroll, o.direct, o.broadcast].every(optionalFlag)) return null;
  const t: GemmTiles = { bm: o.bm as number, bn: o.bn as number, bk: o.bk as number, tm: o.tm as number, tn: o.tn as number };
  return { ...t, ...(o.unroll ? { unroll: true } : {}), ...(o.direct ? { direct: true } : {}), ...(o.broadcast ? { broadcast: true } : {}) };
}

/** The whole file, or an empty one where there is none or it does not parse (`problem` says why). */
function readTileFile(path: string): { file: TileFile; problem?: string } {
  const empty: TileFile = { format: TILES_FORMAT, adapters: {} };
  if (!existsSync(path)) return { file: empty };
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
    const o = parsed as Partial<TileFile> | null;
    if (typeof o !== "object" || o === null || o.format !== TILES_FORMAT || typeof o.adapters !== "object" || o.adapters === null) {
      return { file: empty, problem: `it is not a ${TILES_FORMAT} file` };
    }
    return { file: o as TileFile };
  } catch (err) {
    return { file: empty, problem: (err as Error).message };
  }
}

export interface LoadedTiles {
  readonly table: TileTable;
  readonly path: string;
  /** Entries skipped, and why the file was ignored, if it was. */
  readonly warnings: readonly string[];
}

/** The tuned table for this adapter (empty where none), with every entry checked against `limits`. */
export function loadTiles(adapter: AdapterIdentity, limits: KernelLimits, env: NodeJS.ProcessEnv = process.env): LoadedTiles {
  const path = tileCachePath(env);
  if (env.UNETC_TILES === "default") return { table: {}, path, warnings: [] };
  const { file, problem } = readTileFile(path);
  const warnings: string[] = problem ? [`ignoring the tuned tiles in ${path}: ${problem}`] : [];
  const stored = file.adapters[adapterKey(adapter)] ?? {};
  const table: Record<string, GemmTiles> = {};
  let skipped = 0;
  for (const [signature, raw] of Object.entries(stored)) {
    const t = parseTiles(raw);
    if (t && tilesFit(t, limits)) table[signature] = t;
    else skipped++;
  }
  if (skipped) warnings.push(`ignoring ${skipped} tuned tile entr${skipped === 1 ? "y" : "ies"} in ${path} that do not fit this adapter`);
  return { table, path, warnings };
}

/**
 * The tile file's new text after a tuning run on this adapter (the caller writes it atomically):
 * the `tuned` signatures lose what the file held for them, then get `table`'s choices (one tuned
 * but absent from `table` keeps the default tiles); other signatures and adapters are kept.
 */
export function tileFileWith(adapter: AdapterIdentity, table: TileTable, tuned: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const { file } = readTileFile(tileCachePath(env));
  const key = adapterKey(adapter);
  const kept = Object.fromEntries(Object.entries(file.adapters[key] ?? {}).filter(([signature]) => !tuned.includes(signature)));
  const merged: TileFile = { format: TILES_FORMAT, adapters: { ...file.adapters, [key]: { ...kept, ...table } } };
  return `${JSON.stringify(merged, null, 1)}\n`;
}

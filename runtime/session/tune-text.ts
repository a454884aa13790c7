// The text form of a TuneResult (runtime/session/tune.ts) for `unetc tune`: one row per GEMM
// signature (default and candidate times, the choice), then the step with the default tiles
// against the chosen ones, both measured in the same run.
import { formatTable, si } from "./profile-text.js";
import { tilesName, type TuneResult } from "./tune.js";

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : "-");
const ratio = (before: number, after: number) => (after > 0 ? `${(before / after).toFixed(2)}x` : "-");

export function tuneText(r: TuneResult, top: number): string {
  const header = ["GEMM", "kernels", "FLOPs", "default", "ms", ...r.candidates.map(tilesName), "chosen"];
  const shown = r.rows.slice(0, top);
  const rows = shown.map((row) => [
    row.signature,
    String(row.kernels),
    si(row.flops),
    tilesName(row.defaultTiles),
    ms(row.defaultMs),
    ...row.candidateMs.map(ms),
    row.chosen ? tilesName(row.chosen) : "default",
  ]);
  const more = r.rows.length > shown.length ? `\n... ${r.rows.length - shown.length} more GEMMs (--top)` : "";
  const chosen = Object.keys(r.table).length;
  return [
    r.adapter,
    `model ${r.model}, batch ${r.batch}: ${r.rows.length} GEMM signatures, ${r.candidates.length} candidates each (ms: the signature's kernels summed, medians)`,
    "",
    formatTable(header, rows, ["l", "r", "r", "l", "r", ...r.candidates.map(() => "r" as const), "l"]) + more,
    "",
    `GEMM kernels: ${ms(r.baseline.gemmMs)} ms with the default tiles, ${ms(r.tuned.gemmMs)} ms tuned (${ratio(r.baseline.gemmMs, r.tuned.gemmMs)})`,
    `all kernels:  ${ms(r.baseline.kernelMs)} ms with the default tiles, ${ms(r.tuned.kernelMs)} ms tuned (${ratio(r.baseline.kernelMs, r.tuned.kernelMs)})`,
    `first step:   ${ms(r.baseline.firstStepMs)} ms with the default tiles, ${ms(r.tuned.firstStepMs)} ms tuned (shaders compiled, or from the driver's cache)`,
    !r.confirmed
      ? `the chosen tiles were not faster together than the defaults in this run, so the defaults stay${r.saved ? ` (${r.path} records that for this adapter)` : ""}; tune again on an idle machine`
      : chosen
      ? `${r.saved ? "wrote" : "would write (--dry-run)"} ${chosen} tuned GEMM${chosen === 1 ? "" : "s"} for this adapter to ${r.path}; every compile on this adapter uses them (UNETC_TILES=default ignores them)`
      : `the default tiles were best for every GEMM${r.saved ? `; ${r.path} records that for this adapter` : ""}`,
  ].join("\n");
}

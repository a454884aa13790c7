// The text form of a Profile (runtime/session/profile.ts) for `unetc profile`: the adapter, the
// static report, then the kernels grouped by kind, phase and layer and the slowest kernels, as
// aligned tables.
import type { KernelTiming, Profile, ProfileGroup } from "./profile.js";

/** Columns padded to their widest cell; numbers (align "r") to the right. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ("l" | "r")[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) => cells.map((s, c) => (align[c] === "r" ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const PREFIXES = ["", "k", "M", "G", "T", "P"];

/** 1234567 -> "1.23 M" (decimal prefixes), with a unit after. */
export function si(n: number, unit = ""): string {
  let i = 0;
  while (Math.abs(n) >= 1000 && i < PREFIXES.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${PREFIXES[i]}${unit}`.trimEnd();
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const ms = (x: number) => x.toFixed(x < 10 ? 3 : 1);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const rate = (x: number | null) => (x === null ? "-" : x === 0 ? "0" : x.toFixed(x < 10 ? 3 : 1));

const COLUMNS = ["kernels", "time ms", "share", "FLOPs", "bytes", "GFLOP/s", "GB/s"];
const groupCells = (g: ProfileGroup) => [String(g.kernels), ms(g.ms), pct(g.share), si(g.flops), si(g.bytes, "B"), rate(g.gflops), rate(g.gbps)];

function groupTable(title: string, key: string, groups: readonly ProfileGroup[], top?: number): string {
  const shown = top === undefined ? groups : groups.slice(0, top);
  const rest = groups.slice(shown.length);
  const more = rest.length ? `\n... ${rest.length} more, ${pct(rest.reduce((a, g) => a + g.share, 0))} of the time` : "";
  return `${title}\n${formatTable([key, ...COLUMNS], shown.map((g) => [g.key, ...groupCells(g)]), ["l", "r", "r", "r", "r", "r", "r", "r"])}${more}`;
}

function kernelTable(kernels: readonly KernelTiming[], top: number): string {
  const slowest = [...kernels].sort((a, b) => b.ms - a.ms).slice(0, top);
  const rows = slowest.map((k) => {
    const r = k.ms > 0 ? { f: k.flops / k.ms / 1e6, b: (k.bytesRead + k.bytesWritten) / k.ms / 1e6 } : undefined;
    return [`k${k.index}`, k.label, k.layer, k.phase, ms(k.ms), pct(k.share), si(k.flops), si(k.bytesRead + k.bytesWritten, "B"), rate(r?.f ?? null), rate(r?.b ?? null)];
  });
  return `top ${slowest.length} kernels\n${formatTable(["kernel", "ops", "layer", "phase", ...COLUMNS.slice(1)], rows, ["l", "l", "l", "l", "r", "r", "r", "r", "r", "r"])}`;
}

/** The static report alone: what the compiler made of the step, with no device timing. */
export function staticText(p: Profile): string {
  const t = p.totals;
  const m = p.memory;
  return [
    `model ${p.model}, batch ${p.batch}, ${p.optimizer}, opt ${p.opt}: ${p.graphOps} graph ops -> ${t.kernels} kernels (${t.pipelines} pipelines), compiled in ${(p.compileMs / 1000).toFixed(2)} s`,
    `per step: ${si(t.flops, "FLOP")}, ${si(t.bytesMoved, "B")} read+written by kernels (+ ${si(t.copyBytes, "B")} of state copies)`,
    `memory: persistent ${mib(m.persistentBytes)}, transient ${mib(m.allocatedBytes)} allocated, peak live ${mib(m.peakLiveBytes)} (no reuse ${mib(m.naiveBytes)})`,
  ].join("\n");
}

export function profileText(p: Profile, top: number): string {
  const parts = [p.adapter, staticText(p)];
  const t = p.timing;
  if (t) {
    const warm = t.warmupMs.length ? `, ${ms(t.warmupMs[t.warmupMs.length - 1])} ms unprofiled (last warm-up)` : "";
    const wall = t.profiledMs.length ? ` ${ms(t.profiledMs.reduce((a, b) => a + b, 0) / t.profiledMs.length)} ms profiled` : "";
    parts[1] += `\ntiming: median of ${t.steps} profiled step${t.steps === 1 ? "" : "s"} after ${t.warmup} warm-up: kernels ${ms(t.kernelMs)} ms on the GPU; step wall${wall}${warm}`;
    parts.push(groupTable("by kind", "kind", t.byKind), groupTable("by phase", "phase", t.byPhase), groupTable(`by layer`, "layer", t.byLayer, top), kernelTable(t.kernels, top));
  }
  return parts.join("\n\n");
}

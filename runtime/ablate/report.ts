// The ablation report: per-variant statistics over seeds (mean and sample standard deviation), a
// GitHub markdown table (the same table report-html.ts puts in ablation.html) and a JSON document. Pure functions of the outcomes, so the same runs always
// give the same bytes.
//
// A statistic counts only finished runs ("done") whose metric is a finite number: a missing or NaN
// metric lowers that metric's n, which the table shows as "(n=k)" next to the value.
import type { GridAxis, Variant } from "./grid.js";

export interface RunMetrics {
  /** Trainable parameters. */
  params: number;
  /** Forward FLOPs per image. */
  flops: number;
  /** Mean wall time of one training step. */
  stepSeconds: number | null;
  peakMemoryBytes: number | null;
  /** Final train loss (e.g. the last epoch's mean). */
  trainLoss: number | null;
  evalLoss: number | null;
  fid: number | null;
  kid: number | null;
}

export type MetricKey = keyof RunMetrics;

/** Table and JSON order. */
export const METRIC_KEYS: readonly MetricKey[] = ["params", "flops", "stepSeconds", "peakMemoryBytes", "trainLoss", "evalLoss", "fid", "kid"];

export type RunOutcome =
  | { status: "done"; seed: number; dir: string; metrics: RunMetrics }
  /** The spec did not check with this variant's settings (e.g. channels not divisible by heads). */
  | { status: "invalid"; seed: number; dir: string; error: string }
  /** Training or sampling stopped with an error. */
  | { status: "failed"; seed: number; dir: string; error: string };

export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); 0 when n = 1. */
  spread: number;
  n: number;
}

export interface VariantSummary {
  variant: Variant;
  runs: RunOutcome[];
  done: number;
  invalid: number;
  failed: number;
  /** null where no finished run has a finite value for the metric. */
  stats: Record<MetricKey, Stat | null>;
}

export function stat(values: readonly number[]): Stat | null {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((s, v) => s + v, 0) / n;
  const ss = xs.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, spread: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

/** One summary per variant, in the variants' order; a variant with no outcomes has no runs. */
export function summarize(variants: readonly Variant[], outcomes: ReadonlyMap<string, readonly RunOutcome[]>): VariantSummary[] {
  return variants.map((variant) => {
    const runs = [...(outcomes.get(variant.id) ?? [])];
    const finished = runs.flatMap((r) => (r.status === "done" ? [r.metrics] : []));
    const stats = {} as Record<MetricKey, Stat | null>;
    for (const k of METRIC_KEYS) stats[k] = stat(finished.flatMap((m) => (m[k] === null ? [] : [m[k]])));
    const count = (s: RunOutcome["status"]) => runs.filter((r) => r.status === s).length;
    return { variant, runs, done: count("done"), invalid: count("invalid"), failed: count("failed"), stats };
  });
}

// ---- markdown ----------------------------------------------------------------------------------

const MISSING = "–";

interface Column {
  header: string;
  key: MetricKey;
  /** Formats one number in the column's unit. */
  fmt: (v: number) => string;
  /** Lower is better, and the best mean is bold. */
  best?: boolean;
}

/** 1234567 -> "1,234,567" (rounded; by hand, so the output does not depend on the locale). */
function thousands(n: number): string {
  const digits = Math.abs(Math.round(n)).toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (n < 0 ? "-" : "") + digits;
}

const fixed = (digits: number, scale = 1) => (v: number) => (v * scale).toFixed(digits);
const signed = (digits: number) => (v: number) => (v >= 0 ? "+" : "") + v.toFixed(digits);

const COLUMNS: readonly Column[] = [
  { header: "params", key: "params", fmt: thousands },
  { header: "fwd MFLOPs/img", key: "flops", fmt: fixed(1, 1e-6) },
  { header: "step ms", key: "stepSeconds", fmt: fixed(1, 1e3) },
  { header: "peak MiB", key: "peakMemoryBytes", fmt: fixed(1, 1 / 2 ** 20) },
  { header: "train loss", key: "trainLoss", fmt: fixed(4) },
  { header: "eval loss", key: "evalLoss", fmt: fixed(4), best: true },
  { header: "FID", key: "fid", fmt: fixed(2), best: true },
  { header: "KID", key: "kid", fmt: signed(4) },
];

/** `mean ± spread`, just `mean` for one value or no spread, and `(n=k)` when fewer runs than finished. */
function cell(s: Stat | null, c: Column, done: number): string {
  if (!s) return MISSING;
  const spreadText = s.n > 1 && s.spread > 0 ? ` ± ${c.fmt(s.spread).replace(/^\+/, "")}` : "";
  return `${c.fmt(s.mean)}${spreadText}${s.n < done ? ` (n=${s.n})` : ""}`;
}

function runsCell(s: VariantSummary): string {
  const total = s.runs.length;
  if (total > 0 && s.invalid === total) return "invalid";
  const extra = [s.failed ? `${s.failed} failed` : "", s.invalid ? `${s.invalid} invalid` : ""].filter(Boolean).join(", ");
  return `${s.done}/${total}${extra ? ` (${extra})` : ""}`;
}

const escapeCell = (s: string) => s.replace(/\|/g, "\\|");

/** An inline code span that survives backticks in the text. */
function code(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = s.startsWith("`") || s.endsWith("`") ? " " : "";
  return `${fence}${pad}${s}${pad}${fence}`;
}

const firstLine = (s: string) => s.split("\n").find((l) => l.trim() !== "")?.trim() ?? "(no message)";

/** Means that are the lowest of a column, when at least two variants have the metric. */
function bestMeans(summaries: readonly VariantSummary[], key: MetricKey): number | undefined {
  const means = summaries.flatMap((s) => (s.stats[key] ? [s.stats[key].mean] : []));
  return means.length >= 2 ? Math.min(...means) : undefined;
}

/** The table both pages show: one row per variant, cells already formatted. */
export interface ReportTable {
  readonly headers: readonly string[];
  readonly rows: readonly { readonly label: string; readonly cells: readonly { readonly text: string; readonly best: boolean }[]; readonly runs: string }[];
}

export function reportTable(summaries: readonly VariantSummary[]): ReportTable {
  const best = new Map(COLUMNS.filter((c) => c.best).map((c) => [c.key, bestMeans(summaries, c.key)]));
  const rows = summaries.map((s) => ({
    label: s.variant.label,
    cells: COLUMNS.map((c) => {
      const b = best.get(c.key);
      return { text: cell(s.stats[c.key], c, s.done), best: b !== undefined && s.stats[c.key]?.mean === b };
    }),
    runs: runsCell(s),
  }));
  return { headers: ["variant", ...COLUMNS.map((c) => c.header), "runs"], rows };
}

export const TABLE_LEGEND = "Mean ± sample standard deviation over seeds; (n=k): only k finished runs have the value; bold: the lowest eval loss and FID.";

/** One line per run that did not finish (one per variant when every seed was invalid alike). */
export function unfinishedRuns(summaries: readonly VariantSummary[]): { label: string; text: string }[] {
  return summaries.flatMap((s) => {
    const bad = s.runs.flatMap((r) => (r.status === "done" ? [] : [r]));
    if (bad.length === 0) return [];
    // An invalid variant fails the same way for every seed: one line, not one per seed.
    if (bad.length === s.runs.length && bad.every((r) => r.status === "invalid")) return [{ label: s.variant.label, text: `invalid: ${firstLine(bad[0].error)}` }];
    return bad.map((r) => ({ label: s.variant.label, text: `seed ${r.seed} ${r.status}: ${firstLine(r.error)}` }));
  });
}

export interface MarkdownOptions {
  title: string;
  command: string;
  notes?: string[];
}

export function renderMarkdown(summaries: readonly VariantSummary[], o: MarkdownOptions): string {
  const out: string[] = [`# ${o.title}`, "", "```sh", o.command, "```", ""];
  const table = reportTable(summaries);
  out.push(`| ${table.headers.join(" | ")} |`);
  out.push(`|:--|${COLUMNS.map(() => "--:").join("|")}|--:|`);
  for (const row of table.rows) {
    const cells = row.cells.map((c) => (c.best ? `**${c.text}**` : c.text));
    out.push(`| ${escapeCell(row.label)} | ${cells.join(" | ")} | ${row.runs} |`);
  }
  out.push("", TABLE_LEGEND);
  const problems = unfinishedRuns(summaries).map((p) => `- ${code(p.label)} ${p.text}`);
  if (problems.length) out.push("", "Runs that did not finish:", "", ...problems);
  if (o.notes?.length) out.push("", "Notes:", "", ...o.notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

// ---- JSON --------------------------------------------------------------------------------------

export type RunMetricsJson = { [K in MetricKey]: number | null };

export type RunJson =
  | { status: "done"; seed: number; dir: string; metrics: RunMetricsJson }
  | { status: "invalid" | "failed"; seed: number; dir: string; error: string };

export interface VariantJson {
  id: string;
  label: string;
  dir: string;
  sets: string[];
  done: number;
  invalid: number;
  failed: number;
  stats: Record<MetricKey, Stat | null>;
  runs: RunJson[];
}

export interface AblationReportJson {
  version: 1;
  command: string;
  spec: string;
  grid: { key: string; values: string[] }[];
  seeds: number[];
  variants: VariantJson[];
  extra?: Record<string, unknown>;
}

export interface ReportJsonOptions {
  command: string;
  spec: string;
  grid: readonly GridAxis[];
  seeds: readonly number[];
  extra?: Record<string, unknown>;
}

/** JSON has no NaN or Infinity: such a metric is written as null. */
const jsonNumber = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

function runJson(r: RunOutcome): RunJson {
  if (r.status !== "done") return { status: r.status, seed: r.seed, dir: r.dir, error: r.error };
  const metrics = {} as RunMetricsJson;
  for (const k of METRIC_KEYS) metrics[k] = jsonNumber(r.metrics[k]);
  return { status: "done", seed: r.seed, dir: r.dir, metrics };
}

export function reportJson(summaries: readonly VariantSummary[], o: ReportJsonOptions): AblationReportJson {
  return {
    version: 1,
    command: o.command,
    spec: o.spec,
    grid: o.grid.map((a) => ({ key: a.key, values: [...a.values] })),
    seeds: [...o.seeds],
    variants: summaries.map((s) => ({
      id: s.variant.id,
      label: s.variant.label,
      dir: s.variant.dir,
      sets: [...s.variant.sets],
      done: s.done,
      invalid: s.invalid,
      failed: s.failed,
      stats: { ...s.stats },
      runs: s.runs.map(runJson),
    })),
    ...(o.extra ? { extra: o.extra } : {}),
  };
}

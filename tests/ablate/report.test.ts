import { describe, expect, it } from "vitest";
import { expandGrid, parseGridArg } from "../../runtime/ablate/grid.js";
import { METRIC_KEYS, renderMarkdown, reportJson, stat, summarize, type RunMetrics, type RunOutcome } from "../../runtime/ablate/report.js";

const metrics = (o: Partial<RunMetrics>): RunMetrics => ({
  params: 0,
  flops: 0,
  stepSeconds: null,
  peakMemoryBytes: null,
  trainLoss: null,
  evalLoss: null,
  fid: null,
  kid: null,
  ...o,
});

const grid = [parseGridArg("a=1,2,3")];
const variants = expandGrid(grid);
const pick = <T>(xs: T[], seed: number): T => xs[seed];
const outcomes = new Map<string, RunOutcome[]>([
  [
    "a=1",
    [0, 1, 2].map((seed) => ({
      status: "done" as const,
      seed,
      dir: `r/a-1/seed-${seed}`,
      metrics: metrics({
        params: 1234567,
        flops: 12_345_678,
        stepSeconds: pick([0.1, 0.12, 0.11], seed),
        peakMemoryBytes: 100 * 2 ** 20,
        trainLoss: pick([0.05, 0.052, 0.051], seed),
        evalLoss: pick([0.03, 0.032, 0.031], seed),
        fid: pick([10, 12, null], seed),
        kid: pick([0.001, -0.001, null], seed),
      }),
    })),
  ],
  [
    "a=2",
    [
      { status: "done", seed: 0, dir: "r/a-2/seed-0", metrics: metrics({ params: 2e6, flops: 2e7, trainLoss: 0.04, evalLoss: 0.029, fid: 9 }) },
      { status: "failed", seed: 1, dir: "r/a-2/seed-1", error: "out of memory\n    at step 12" },
      { status: "done", seed: 2, dir: "r/a-2/seed-2", metrics: metrics({ params: 2e6, flops: 2e7, trainLoss: 0.04, evalLoss: 0.031, fid: 9 }) },
    ],
  ],
  ["a=3", [0, 1, 2].map((seed) => ({ status: "invalid" as const, seed, dir: `r/a-3/seed-${seed}`, error: "error[E0301]: 3 does not divide 32\n --> m.unet:4:7" }))],
]);

describe("summarize", () => {
  it("computes mean and sample standard deviation (n - 1)", () => {
    expect(stat([])).toBeNull();
    expect(stat([5])).toEqual({ mean: 5, spread: 0, n: 1 });
    const s = stat([2, 4, 4, 4, 5, 5, 7, 9])!; // mean 5, sum of squares 32, 32 / 7
    expect(s.mean).toBe(5);
    expect(s.spread).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(stat([1, Number.NaN, 3])).toEqual({ mean: 2, spread: Math.SQRT2, n: 2 });
  });

  it("counts outcomes and skips missing metrics per metric", () => {
    const [a1, a2, a3] = summarize(variants, outcomes);
    expect([a1.done, a1.invalid, a1.failed]).toEqual([3, 0, 0]);
    expect(a1.stats.evalLoss!.mean).toBeCloseTo(0.031, 12);
    expect(a1.stats.evalLoss!.spread).toBeCloseTo(0.001, 12); // deviations -1e-3, 1e-3, 0: sqrt(2e-6 / 2)
    expect(a1.stats.fid).toEqual({ mean: 11, spread: Math.SQRT2, n: 2 });
    expect(a1.stats.params).toEqual({ mean: 1234567, spread: 0, n: 3 });
    expect([a2.done, a2.invalid, a2.failed]).toEqual([2, 0, 1]);
    expect(a2.stats.stepSeconds).toBeNull();
    expect(a2.stats.fid).toEqual({ mean: 9, spread: 0, n: 2 });
    expect([a3.done, a3.invalid, a3.failed]).toEqual([0, 3, 0]);
    for (const k of METRIC_KEYS) expect(a3.stats[k]).toBeNull();
    expect(summarize(variants, new Map())[0]).toMatchObject({ runs: [], done: 0 });
  });
});

describe("renderMarkdown", () => {
  it("renders the table, marks the best eval loss and FID, and lists unfinished runs", () => {
    const md = renderMarkdown(summarize(variants, outcomes), {
      title: "Ablation: a",
      command: "unetc ablate m.unet --grid a=1,2,3 --seeds 3",
      notes: ["trained 2 epochs"],
    });
    expect(md).toBe(
      [
        "# Ablation: a",
        "",
        "```sh",
        "unetc ablate m.unet --grid a=1,2,3 --seeds 3",
        "```",
        "",
        "| variant | params | fwd MFLOPs/img | step ms | peak MiB | train loss | eval loss | FID | KID | runs |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        "| a=1 | 1,234,567 | 12.3 | 110.0 ± 10.0 | 100.0 | 0.0510 ± 0.0010 | 0.0310 ± 0.0010 | 11.00 ± 1.41 (n=2) | +0.0000 ± 0.0014 (n=2) | 3/3 |",
        "| a=2 | 2,000,000 | 20.0 | – | – | 0.0400 | **0.0300 ± 0.0014** | **9.00** | – | 2/3 (1 failed) |",
        "| a=3 | – | – | – | – | – | – | – | – | invalid |",
        "",
        "Mean ± sample standard deviation over seeds; (n=k): only k finished runs have the value; bold: the lowest eval loss and FID.",
        "",
        "Runs that did not finish:",
        "",
        "- `a=2` seed 1 failed: out of memory",
        "- `a=3` invalid: error[E0301]: 3 does not divide 32",
        "",
        "Notes:",
        "",
        "- trained 2 epochs",
        "",
      ].join("\n"),
    );
  });

  it("bolds nothing with a single variant, escapes pipes and shows negative KID with its sign", () => {
    const [v] = expandGrid([parseGridArg('s="x|y"')]);
    const runs: RunOutcome[] = [{ status: "done", seed: 0, dir: "d", metrics: metrics({ params: 10, flops: 5e5, evalLoss: 0.5, fid: 3, kid: -0.0123 }) }];
    const md = renderMarkdown(summarize([v], new Map([[v.id, runs]])), { title: "t", command: "c" });
    expect(md).toContain('| s="x\\|y" | 10 | 0.5 | – | – | – | 0.5000 | 3.00 | -0.0123 | 1/1 |');
    expect(md).not.toContain("**");
    expect(md).not.toContain("Runs that did not finish");
  });

  it("is deterministic", () => {
    const o = { title: "t", command: "c" };
    expect(renderMarkdown(summarize(variants, outcomes), o)).toBe(renderMarkdown(summarize(variants, outcomes), o));
  });
});

describe("reportJson", () => {
  it("holds the invocation, every variant's stats and every run, and survives JSON", () => {
    const withNaN = new Map(outcomes);
    withNaN.set("a=2", [{ status: "done", seed: 0, dir: "r/a-2/seed-0", metrics: metrics({ params: 1, flops: 1, trainLoss: Number.NaN }) }]);
    const j = reportJson(summarize(variants, withNaN), { command: "c", spec: "m.unet", grid, seeds: [0, 1, 2], extra: { epochs: 2 } });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    expect(j).toMatchObject({ version: 1, command: "c", spec: "m.unet", grid: [{ key: "a", values: ["1", "2", "3"] }], seeds: [0, 1, 2], extra: { epochs: 2 } });
    expect(j.variants.map((v) => [v.id, v.dir, v.done, v.invalid, v.failed, v.runs.length])).toEqual([
      ["a=1", "a-1", 3, 0, 0, 3],
      ["a=2", "a-2", 1, 0, 0, 1],
      ["a=3", "a-3", 0, 3, 0, 3],
    ]);
    expect(j.variants[0].stats.fid).toEqual({ mean: 11, spread: Math.SQRT2, n: 2 });
    expect(j.variants[0].runs[2]).toEqual({
      status: "done",
      seed: 2,
      dir: "r/a-1/seed-2",
      metrics: { params: 1234567, flops: 12345678, stepSeconds: 0.11, peakMemoryBytes: 104857600, trainLoss: 0.051, evalLoss: 0.031, fid: null, kid: null },
    });
    expect(j.variants[1].runs[0]).toMatchObject({ metrics: { trainLoss: null } }); // NaN is not JSON
    expect(j.variants[1].stats.trainLoss).toBeNull();
    expect(j.variants[2].runs[0]).toEqual({ status: "invalid", seed: 0, dir: "r/a-3/seed-0", error: "error[E0301]: 3 does not divide 32\n --> m.unet:4:7" });
    expect("extra" in reportJson([], { command: "c", spec: "s", grid: [], seeds: [0] })).toBe(false);
  });
});

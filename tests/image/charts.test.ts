// The loss and ablation charts: vega-lite specs rendered headless to SVG and by resvg to PNG with
// the shipped font. Checked through the SVG's text (labels, legend, axis titles), the PNG's size
// and ink, and byte-identical output for the same input.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { ablationChartSpec, writeAblationChart } from "../../runtime/image/ablation-chart.js";
import { lossChartSpec, smooth, writeLossChart, type LossChartOptions } from "../../runtime/image/loss-chart.js";
import { chartSvg } from "../../runtime/image/vega-chart.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-charts-"));

/** Text content of every <text> element. */
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

/** Fraction of pixels that are not white. */
function ink(png: PNG): number {
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) if (png.data[i * 4] < 250 || png.data[i * 4 + 1] < 250 || png.data[i * 4 + 2] < 250) n++;
  return n / (png.width * png.height);
}

const run: LossChartOptions = {
  train: Array.from({ length: 120 }, (_, i) => ({ step: (i + 1) * 5, loss: 0.4 / Math.sqrt(i + 1) + 0.01 * (i % 3), lr: 1e-3 * Math.min(1, (i + 1) / 30) })),
  eval: [1, 2, 3].map((e) => ({ step: e * 200, loss: 0.2 / e })),
};

describe("loss chart", () => {
  it("shows raw and smoothed train loss, eval points on a log axis, and the learning rate below", async () => {
    const w = await writeLossChart(join(tmp, "loss.png"), run);
    expect(w.svg).toBe(join(tmp, "loss.svg"));
    const svg = readFileSync(w.svg, "utf8");
    expect(svg).toBe(w.svgText);
    const t = texts(svg);
    for (const label of ["train", "train (smoothed)", "eval", "loss (log scale)", "learning rate", "step"]) expect(t, label).toContain(label);
    expect(t.filter((s) => s === "step")).toHaveLength(1); // one step axis title, under the lr panel
    const png = PNG.sync.read(readFileSync(w.png));
    expect(png.width).toBeGreaterThan(560);
    expect(png.height).toBeGreaterThan(350); // two panels
    expect(ink(png)).toBeGreaterThan(0.02);
  });

  it("leaves out what a log axis cannot show, and draws an empty run", async () => {
    const spec = JSON.stringify(lossChartSpec({ train: [{ step: 1, loss: 0 }, { step: 2, loss: -1 }, { step: 3, loss: Number.NaN }, { step: 4, loss: 0.5 }] }));
    expect(spec).toContain('"loss":0.5');
    expect(spec).not.toMatch(/"loss":(0|-1|null)[,}]/);
    const empty = await chartSvg(lossChartSpec({ train: [] }));
    expect(empty).toContain("<svg");
    expect(texts(empty)).not.toContain("learning rate"); // no lr: one panel
  });

  it("smooths like TensorBoard (debiased: the first point is the first value)", () => {
    const s = smooth([{ step: 1, loss: 1 }, { step: 2, loss: 3 }, { step: 3, loss: Number.NaN }, { step: 4, loss: 3 }], 0.5);
    expect(s.map((p) => p.step)).toEqual([1, 2, 4]);
    expect(s[0].loss).toBe(1);
    expect(s[1].loss).toBeCloseTo((0.5 * 0.5 + 0.5 * 3) / (1 - 0.25), 12);
  });

  it("gives byte-identical PNG and SVG for the same run", async () => {
    const a = await writeLossChart(join(tmp, "a.png"), run);
    const b = await writeLossChart(join(tmp, "b.png"), run);
    expect(readFileSync(a.png).equals(readFileSync(b.png))).toBe(true);
    expect(a.svgText === b.svgText).toBe(true);
  });
});

describe("ablation chart", () => {
  const bars = [
    { label: "attn_chans=0", mean: 0.031, spread: 0.001, points: [0.03, 0.032, 0.031] },
    { label: "attn_chans=8", mean: 0.029, spread: 0, points: [0.029] },
    { label: "broken", mean: Number.NaN, spread: Number.NaN, points: [] },
  ];

  it("draws a bar per variant, an error bar where seeds differ, and a dot per seed", async () => {
    const w = await writeAblationChart(join(tmp, "eval-loss.png"), { title: "eval loss per variant (3 seeds)", yTitle: "eval loss", bars });
    const t = texts(w.svgText);
    for (const label of ["attn_chans=0", "attn_chans=8", "eval loss", "eval loss per variant (3 seeds)"]) expect(t, label).toContain(label);
    expect((w.svgText.match(/aria-roledescription="bar"/g) ?? []).length).toBe(2);
    expect((w.svgText.match(/aria-roledescription="point"/g) ?? []).length).toBe(4); // 3 + 1 seeds; the NaN variant has none
    const spec = JSON.stringify(ablationChartSpec({ title: "t", yTitle: "y", bars }));
    expect(spec).toContain('"lo":0.03,"hi":0.032'); // mean ± spread
    const png = PNG.sync.read(readFileSync(w.png));
    expect(png.width).toBeGreaterThan(150);
    expect(ink(png)).toBeGreaterThan(0.05);
  });

  it("gives byte-identical PNGs for the same bars", async () => {
    const o = { title: "FID", yTitle: "FID", bars };
    const a = await writeAblationChart(join(tmp, "f1.png"), o);
    const b = await writeAblationChart(join(tmp, "f2.png"), o);
    expect(readFileSync(a.png).equals(readFileSync(b.png))).toBe(true);
  });
});

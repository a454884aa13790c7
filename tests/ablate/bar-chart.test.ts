import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { BAR_FILL, POINT_COLOR, barChartLayout, encodeBarChartPng, renderBarChart, wrapLabel, type BarChartOptions } from "../../runtime/image/bar-chart.js";
import type { Raster } from "../../runtime/image/png.js";

function rgb(r: Raster, x: number, y: number): number[] {
  const i = (Math.round(y) * r.width + Math.round(x)) * r.channels;
  return Array.from(r.data.subarray(i, i + 3));
}

function countColor(r: Raster, c: readonly number[], x0 = 0, x1 = r.width - 1): number {
  let n = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = (y * r.width + x) * 4;
      if (r.data[i] === c[0] && r.data[i + 1] === c[1] && r.data[i + 2] === c[2]) n++;
    }
  }
  return n;
}

const o: BarChartOptions = {
  title: "EVAL LOSS",
  yLabel: "LOSS",
  bars: [
    { label: "attn_chans=0 norm=group", mean: 0.03, spread: 0.002, points: [0.028, 0.03, 0.032] },
    { label: "attn_chans=8 norm=group", mean: 0.02, spread: 0.001, points: [0.019, 0.021] },
    { label: "a=1", mean: 0.01, spread: 0 },
  ],
};

describe("bar chart", () => {
  it("has the layout's size and fills each bar from 0 to its mean", () => {
    const r = renderBarChart(o);
    const L = barChartLayout(o);
    expect([r.width, r.height, r.channels]).toEqual([L.width, L.height, 4]);
    expect(L.yMin).toBe(0);
    expect(L.yMax).toBeGreaterThan(0.032);
    o.bars.forEach((b, i) => {
      const x = L.x(i) - L.barWidth / 4; // off the centre line, where the error bar is
      expect(rgb(r, x, L.y(b.mean / 2)), `bar ${i}`).toEqual([...BAR_FILL]);
      expect(rgb(r, x, L.y(b.mean) - 3), `above bar ${i}`).not.toEqual([...BAR_FILL]);
    });
    // Taller bars hold more fill.
    const fill = o.bars.map((_, i) => countColor(r, BAR_FILL, Math.round(L.x(i) - L.slot / 2), Math.round(L.x(i) + L.slot / 2) - 1));
    expect(fill[0]).toBeGreaterThan(fill[1]);
    expect(fill[1]).toBeGreaterThan(fill[2]);
    // Each seed's dot, in its bar's slot.
    expect(countColor(r, POINT_COLOR, Math.round(L.x(0) - L.slot / 2), Math.round(L.x(0) + L.slot / 2))).toBe(27);
    expect(countColor(r, POINT_COLOR, Math.round(L.x(2) - L.slot / 2), r.width - 1)).toBe(0);
    const png = PNG.sync.read(encodeBarChartPng(o));
    expect([png.width, png.height]).toEqual([L.width, L.height]);
  });

  it("handles a single bar, equal values, zero, negative values and a fitted axis", () => {
    for (const bars of [
      [{ label: "only", mean: 2, spread: 0.5 }],
      [{ label: "x", mean: 1, spread: 0 }, { label: "y", mean: 1, spread: 0 }],
      [{ label: "zero", mean: 0, spread: 0 }],
      [],
    ]) {
      const oo = { title: "T", bars };
      const r = renderBarChart(oo);
      const L = barChartLayout(oo);
      expect(r.data.length).toBe(L.width * L.height * 4);
      expect(L.yMax).toBeGreaterThan(L.yMin);
      expect(Number.isFinite(L.y(0))).toBe(true);
    }
    const neg = { title: "KID", bars: [{ label: "a", mean: -0.01, spread: 0.002 }, { label: "b", mean: 0.02, spread: 0 }] };
    const Ln = barChartLayout(neg);
    expect(Ln.yMin).toBeLessThan(-0.012);
    expect(rgb(renderBarChart(neg), Ln.x(0) - Ln.barWidth / 4, Ln.y(-0.005))).toEqual([...BAR_FILL]);
    const fit = { ...o, fromZero: false };
    const Lf = barChartLayout(fit);
    expect(Lf.yMin).toBeGreaterThan(0);
    expect(Lf.yMin).toBeLessThan(0.009);
    expect(rgb(renderBarChart(fit), Lf.x(2) - Lf.barWidth / 4, Lf.y(0.0095))).toEqual([...BAR_FILL]);
  });

  it("widens for many bars and wraps long labels under them", () => {
    const many = { title: "T", bars: Array.from({ length: 12 }, (_, i) => ({ label: `nfs=[${i},${2 * i}]`, mean: i + 1, spread: 0 })) };
    const L = barChartLayout(many);
    expect(L.width).toBeGreaterThan(12 * 48);
    expect(L.slot).toBeGreaterThanOrEqual(48);
    expect(L.labels[3]).toEqual(["nfs=[3,6]"]);
    expect(wrapLabel("attn_chans=0 norm=group", 12)).toEqual(["attn_chans=0", "norm=group"]);
    expect(wrapLabel("a b c", 3)).toEqual(["a b", "c"]);
    expect(wrapLabel("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrapLabel("abcdefghijklmnop", 4, 2)).toEqual(["abcd", "ef.."]);
  });
});

import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  EVAL_COLOR,
  TRAIN_COLOR,
  encodeLossPlotPng,
  formatTick,
  linearTicks,
  logTicks,
  plotLayout,
  writeLossPlotPng,
  type LossPlotOptions,
} from "../../runtime/image/loss-plot.js";

function rgb(png: PNG, x: number, y: number): number[] {
  const i = (Math.round(y) * png.width + Math.round(x)) * 4;
  return Array.from(png.data.subarray(i, i + 3));
}

function countColor(png: PNG, c: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === c[0] && png.data[i + 1] === c[1] && png.data[i + 2] === c[2]) n++;
  return n;
}

const train = Array.from({ length: 200 }, (_, i) => ({ step: i + 1, loss: 1 / (1 + i / 10) }));
const evalPts = [50, 100, 150, 200].map((step) => ({ step, loss: 1.1 / (1 + (step - 1) / 10) }));

describe("loss-curve PNG", () => {
  it("draws axes, the train polyline and eval markers where the layout puts them", async () => {
    const o: LossPlotOptions = { train, eval: evalPts, width: 400, height: 300 };
    const path = join(await mkdtemp(join(tmpdir(), "unetc-plot-")), "loss.png");
    await writeLossPlotPng(path, o);
    const png = PNG.sync.read(await readFile(path));
    expect([png.width, png.height]).toEqual([400, 300]);
    const L = plotLayout(o);
    expect(rgb(png, 2, png.height - 2)).toEqual([255, 255, 255]); // background
    expect(rgb(png, L.area.x0, (L.area.y0 + L.area.y1) / 2)).toEqual([0, 0, 0]); // y axis
    expect(rgb(png, (L.area.x0 + L.area.x1) / 2, L.area.y1)).toEqual([0, 0, 0]); // x axis
    expect(rgb(png, L.x(120), L.y(train[119].loss))).toEqual([...TRAIN_COLOR]);
    expect(rgb(png, L.x(150), L.y(evalPts[2].loss))).toEqual([...EVAL_COLOR]);
    expect(countColor(png, TRAIN_COLOR)).toBeGreaterThan(150);
    expect(L.xMin).toBe(0);
    expect(L.xMax).toBe(200);
    expect(L.yMin).toBeGreaterThan(0);
    expect(L.yMin).toBeLessThan(train[199].loss);
    // With a loss near 0, the 5% margin would go below 0: the axis starts at 0 instead.
    expect(plotLayout({ train: [{ step: 0, loss: 0.001 }, { step: 1, loss: 1 }] }).yMin).toBe(0);
  });

  it("log y: decades at equal spacing; non-positive and NaN losses are skipped", () => {
    const o: LossPlotOptions = {
      train: [
        { step: 0, loss: 1 },
        { step: 1, loss: 0.1 },
        { step: 2, loss: 0 },
        { step: 3, loss: Number.NaN },
        { step: 4, loss: 0.01 },
      ],
      logY: true,
    };
    const L = plotLayout(o);
    expect(L.y(1) - L.y(0.1)).toBeCloseTo(L.y(0.1) - L.y(0.01), 9);
    const png = PNG.sync.read(encodeLossPlotPng({ ...o, smoothing: 0.5 }));
    expect([png.width, png.height]).toEqual([640, 400]);
  });

  it("draws an empty plot without failing", () => {
    const png = PNG.sync.read(encodeLossPlotPng({ train: [] }));
    expect(png.width).toBe(640);
  });

  it("chooses round ticks and formats them compactly", () => {
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 2950, 6)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(logTicks(0.01, 1)).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
    expect(logTicks(1e-5, 10)).toEqual([1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.03, 0.04).length).toBeGreaterThanOrEqual(2); // narrow: linear round values
    expect([0, 0.05, 1000, 1e-4, 123456].map(formatTick)).toEqual(["0", "0.05", "1000", "1e-4", "1e5"]);
  });
});

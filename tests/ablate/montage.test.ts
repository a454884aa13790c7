import { describe, expect, it } from "vitest";
import { gridRaster } from "../../runtime/image/grid.js";
import { montage, montageLayout } from "../../runtime/image/montage.js";
import type { Raster } from "../../runtime/image/png.js";

function solid(width: number, height: number, c: readonly number[], channels: 1 | 3 | 4 = 3): Raster {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) data.set(c.slice(0, channels), i * channels);
  return { width, height, channels, data };
}

function rgb(r: Raster, x: number, y: number): number[] {
  const i = (y * r.width + x) * r.channels;
  return Array.from(r.data.subarray(i, i + 3));
}

/** Every pixel of the rectangle has colour c. */
function filled(r: Raster, x0: number, y0: number, w: number, h: number, c: readonly number[]): boolean {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (rgb(r, x, y).join() !== c.join()) return false;
  return true;
}

const RED = [200, 0, 0];
const GREEN = [0, 150, 0];
const BLUE = [0, 0, 180];

describe("montage", () => {
  it("puts panels of different sizes side by side under their labels", () => {
    const panels = [
      { label: "a=1", raster: solid(100, 40, RED) },
      { label: "a=2", raster: solid(60, 80, GREEN) },
    ];
    const L = montageLayout(panels, { gap: 4 });
    // One label line (14 px) above the tallest panel; 4 px gaps between and around.
    expect([L.width, L.height]).toEqual([4 + 100 + 4 + 60 + 4, 4 + 14 + 80 + 4]);
    expect(L.cells.map((c) => [c.x, c.y])).toEqual([
      [4, 18],
      [108, 18],
    ]);
    const r = montage(panels, { gap: 4 });
    expect([r.width, r.height, r.channels]).toEqual([L.width, L.height, 4]);
    expect(filled(r, 4, 18, 100, 40, RED)).toBe(true);
    expect(filled(r, 108, 18, 60, 80, GREEN)).toBe(true);
    expect(filled(r, 4, 58, 100, 40, [255, 255, 255])).toBe(true); // below the shorter panel: white
    expect(filled(r, 0, 0, r.width, 4, [255, 255, 255])).toBe(true); // top gap
    // Each label is drawn in black in the band above its panel.
    const dark = (x0: number, x1: number) => {
      let n = 0;
      for (let y = 4; y < 18; y++) for (let x = x0; x < x1; x++) if (rgb(r, x, y).join() === "0,0,0") n++;
      return n;
    };
    expect(dark(4, 104)).toBeGreaterThan(10);
    expect(dark(108, 168)).toBeGreaterThan(10);
  });

  it("wraps into rows of `columns`, aligning columns", () => {
    const panels = [
      { label: "one", raster: solid(30, 20, RED) },
      { label: "two", raster: solid(50, 20, GREEN) },
      { label: "three", raster: solid(40, 30, BLUE) },
    ];
    const L = montageLayout(panels, { columns: 2, gap: 2 });
    // Column 0 is 40 wide (panel 3), column 1 is 50; rows are 14 + 20 and 14 + 30 high.
    expect([L.width, L.height]).toEqual([2 + 40 + 2 + 50 + 2, 2 + 34 + 2 + 44 + 2]);
    expect(L.cells.map((c) => [c.x, c.y])).toEqual([
      [2 + 5, 16], // centred in its 40-wide column
      [44, 16],
      [2, 2 + 34 + 2 + 14],
    ]);
    const r = montage(panels, { columns: 2, gap: 2 });
    panels.forEach((p, i) => expect(filled(r, L.cells[i].x, L.cells[i].y, p.raster.width, p.raster.height, [RED, GREEN, BLUE][i])).toBe(true));
  });

  it("takes gray and RGBA panels (alpha over white) and sample grids", () => {
    const gray = solid(8, 8, [77], 1);
    const half = solid(8, 8, [0, 0, 0, 128], 4);
    const grid = gridRaster(new Float32Array(4 * 3 * 4 * 4).fill(1), { count: 4, channels: 3, height: 4, width: 4 });
    const panels = [
      { label: "", raster: gray },
      { label: "", raster: half },
      { label: "", raster: grid },
    ];
    const r = montage(panels, { gap: 0 });
    const L = montageLayout(panels, { gap: 0 });
    expect(L.height).toBe(10); // no labels: no label band
    expect(rgb(r, L.cells[0].x, L.cells[0].y)).toEqual([77, 77, 77]);
    expect(rgb(r, L.cells[1].x + 3, L.cells[1].y + 3)).toEqual([127, 127, 127]);
    expect(rgb(r, L.cells[2].x, L.cells[2].y)).toEqual([255, 255, 255]);
  });

  it("widens a cell for a label longer than its panel, and rejects bad input", () => {
    const L = montageLayout([{ label: "attn_chans=16", raster: solid(10, 10, RED) }], { gap: 0 });
    expect(L.width).toBe(10 * 8 - 2); // 10 characters per line at least: the label wraps to "attn_chans" / "=16"
    expect(L.cells[0].lines).toEqual(["attn_chans", "=16"]);
    expect(L.cells[0].y).toBe(28);
    expect(() => montage([])).toThrow("montage: no panels");
    expect(() => montage([{ label: "x", raster: { width: 2, height: 2, channels: 3, data: new Uint8Array(3) } }])).toThrow(RangeError);
  });
});

// The ablation's samples montage: panels side by side (or in rows), each centred in its column under
// its label; composed as SVG and rasterized with the shipped font.
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { gridRaster } from "../../runtime/image/grid.js";
import { montageLayout, montagePng, montageSvg } from "../../runtime/image/montage.js";
import type { Raster } from "../../runtime/image/png.js";

function solid(width: number, height: number, c: readonly number[], channels: 1 | 3 | 4 = 3): Raster {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) data.set(c.slice(0, channels), i * channels);
  return { width, height, channels, data };
}

const decode = (png: Buffer) => PNG.sync.read(png);
function rgb(p: PNG, x: number, y: number): number[] {
  const i = (y * p.width + x) * 4;
  return Array.from(p.data.subarray(i, i + 3));
}
/** Every pixel of the rectangle has colour c. */
function filled(p: PNG, x0: number, y0: number, w: number, h: number, c: readonly number[]): boolean {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (rgb(p, x, y).join() !== c.join()) return false;
  return true;
}
function darkPixels(p: PNG, x0: number, x1: number, y0: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (rgb(p, x, y)[0] < 128) n++;
  return n;
}

const RED = [200, 0, 0];
const GREEN = [0, 150, 0];
const BLUE = [0, 0, 180];
const WHITE = [255, 255, 255];

describe("montage", () => {
  it("puts panels of different sizes side by side under their labels", () => {
    const panels = [
      { label: "a=1", raster: solid(100, 40, RED) },
      { label: "a=2", raster: solid(60, 80, GREEN) },
    ];
    const L = montageLayout(panels, { gap: 4 });
    // Both labels are one line: the panels start on one row below the label band.
    expect(L.cells[0].y).toBe(L.cells[1].y);
    expect(L.cells[0].lines).toEqual(["a=1"]);
    expect(L.height).toBe(L.cells[0].y + 80 + 4);
    const p = decode(montagePng(panels, { gap: 4 }));
    expect([p.width, p.height]).toEqual([L.width, L.height]);
    const [a, b] = L.cells;
    expect(filled(p, a.x, a.y, 100, 40, RED)).toBe(true);
    expect(filled(p, b.x, b.y, 60, 80, GREEN)).toBe(true);
    expect(filled(p, a.x, a.y + 40, 100, 40, WHITE)).toBe(true); // below the shorter panel: white
    expect(filled(p, 0, 0, p.width, 3, WHITE)).toBe(true); // top gap
    expect(darkPixels(p, a.x, a.x + 100, 0, a.y)).toBeGreaterThan(20); // each label drawn above its panel
    expect(darkPixels(p, b.x, b.x + 60, 0, b.y)).toBeGreaterThan(20);
    expect(montageSvg(panels)).toContain(">a=2</text>");
  });

  it("wraps into rows of `columns`, aligning columns and centring panels", () => {
    const panels = [
      { label: "one", raster: solid(130, 20, RED) },
      { label: "two", raster: solid(150, 20, GREEN) },
      { label: "three", raster: solid(140, 30, BLUE) },
    ];
    const L = montageLayout(panels, { columns: 2, gap: 2 });
    expect(L.cells[0].x).toBe(2 + 5); // centred in its 140-wide column (panel 3 is widest)
    expect(L.cells[1].x).toBe(2 + 140 + 2);
    expect(L.cells[2].x).toBe(2);
    expect(L.cells[2].y).toBeGreaterThan(L.cells[0].y + 20);
    expect(L.width).toBe(2 + 140 + 2 + 150 + 2);
    const p = decode(montagePng(panels, { columns: 2, gap: 2 }));
    panels.forEach((q, i) => expect(filled(p, L.cells[i].x, L.cells[i].y, q.raster.width, q.raster.height, [RED, GREEN, BLUE][i])).toBe(true));
  });

  it("takes gray and RGBA panels (alpha over white) and sample grids; no labels, no label band", () => {
    const gray = solid(8, 8, [77], 1);
    const half = solid(8, 8, [0, 0, 0, 128], 4);
    const grid = gridRaster(new Float32Array(4 * 3 * 4 * 4).fill(1), { count: 4, channels: 3, height: 4, width: 4 });
    const panels = [
      { label: "", raster: gray },
      { label: "", raster: half },
      { label: "", raster: grid },
    ];
    const L = montageLayout(panels, { gap: 0 });
    expect(L.height).toBe(10);
    const p = decode(montagePng(panels, { gap: 0 }));
    expect(rgb(p, L.cells[0].x, L.cells[0].y)).toEqual([77, 77, 77]);
    expect(rgb(p, L.cells[1].x + 3, L.cells[1].y + 3)).toEqual([127, 127, 127]);
    expect(rgb(p, L.cells[2].x, L.cells[2].y)).toEqual([255, 255, 255]);
  });

  it("wraps a label longer than its panel, and rejects bad input", () => {
    const L = montageLayout([{ label: "attn_chans=16 skip=concat time_emb=input", raster: solid(10, 10, RED) }], { gap: 0 });
    expect(L.cells[0].lines.length).toBeGreaterThan(1);
    expect(L.cells[0].lines.join(" ")).toBe("attn_chans=16 skip=concat time_emb=input");
    expect(L.width).toBeLessThanOrEqual(120); // the label may use 120 px, not more
    expect(() => montagePng([])).toThrow("montage: no panels");
    expect(() => montagePng([{ label: "x", raster: { width: 2, height: 2, channels: 3, data: new Uint8Array(3) } }])).toThrow(RangeError);
  });

  it("gives the same bytes for the same panels", () => {
    const panels = [{ label: "a=1", raster: solid(20, 20, RED) }];
    expect(montagePng(panels).equals(montagePng(panels))).toBe(true);
  });
});

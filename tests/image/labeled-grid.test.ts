// Sample grids for people: images enlarged (nearest) to at least 64 px, class names by the rows,
// step headers over the columns, a caption; composed as SVG and rasterized with the shipped font.
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { scaleToAtLeast, toByte } from "../../runtime/image/grid.js";
import { encodeLabeledGridPng, labeledGrid } from "../../runtime/image/labeled-grid.js";
import { rowClassNames } from "../../runtime/sample/sample.js";

function gray(png: PNG, x: number, y: number): number {
  return png.data[(y * png.width + x) * 4];
}
/** Pixels darker than mid-gray in the rectangle. */
function dark(png: PNG, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (gray(png, x, y) < 128) n++;
  return n;
}

// Six 8x8 gray images, image n constant at -1 + n / 3 (n = 0..5: black to near white).
const images = Float32Array.from({ length: 6 * 64 }, (_, i) => -1 + Math.floor(i / 64) / 3);
const base = { count: 6, channels: 1 as const, height: 8, width: 8, cols: 3, range: [-1, 1] as const };

describe("labeled sample grid", () => {
  it("enlarges images to at least 64 px by a whole factor", () => {
    expect([scaleToAtLeast(32, 32), scaleToAtLeast(28, 28), scaleToAtLeast(8, 8), scaleToAtLeast(64, 64), scaleToAtLeast(100, 100)]).toEqual([2, 3, 8, 1, 1]);
  });

  it("places each enlarged image, the row labels left of the rows and the caption above", () => {
    const o = { ...base, rowLabels: ["T-shirt/top", "Trouser"], caption: ["emb_unet at step 10, EMA weights", "ddim (eta 1), 5 steps, seed 0; 3 per class"] };
    const g = labeledGrid(images, o);
    const L = g.layout;
    expect([L.scale, L.cell, L.rows, L.cols, L.gap]).toEqual([8, 64, 2, 3, 4]);
    for (const text of ["T-shirt/top", "Trouser", "emb_unet at step 10, EMA weights", "ddim (eta 1), 5 steps, seed 0; 3 per class"]) expect(g.svg).toContain(`>${text}</text>`);
    const png = PNG.sync.read(encodeLabeledGridPng(images, o));
    expect([png.width, png.height]).toEqual([L.width, L.height]);
    expect(L.gridX).toBeGreaterThan(60); // room for "T-shirt/top"
    expect(L.gridY).toBeGreaterThan(30); // two caption lines
    for (let n = 0; n < 6; n++) {
      const x = L.gridX + (n % 3) * (L.cell + L.gap);
      const y = L.gridY + Math.floor(n / 3) * (L.cell + L.gap);
      const want = toByte(-1 + n / 3, -1, 1);
      for (const [dx, dy] of [[0, 0], [63, 63], [32, 10]]) expect(gray(png, x + dx, y + dy), `image ${n}`).toBe(want);
    }
    expect(gray(png, L.gridX + 64, L.gridY + 5)).toBe(255); // the gap between images
    expect(dark(png, 0, L.gridY, L.gridX - 2, L.gridY + 64)).toBeGreaterThan(30); // "T-shirt/top" drawn
    expect(dark(png, 0, 0, png.width, L.gridY - 2)).toBeGreaterThan(100); // the caption drawn
  });

  it("puts headers over the columns (a trajectory)", () => {
    const g = labeledGrid(images, { ...base, colLabels: ["t=0.99", "t=0.50", "result"] });
    for (const text of ["t=0.99", "t=0.50", "result"]) expect(g.svg).toContain(`>${text}</text>`);
    expect(g.layout.gridY).toBeGreaterThan(10 + 10);
  });

  it("gives byte-identical PNGs for the same images", () => {
    const o = { ...base, rowLabels: ["a", "b"], caption: ["c"] };
    expect(encodeLabeledGridPng(images, o).equals(encodeLabeledGridPng(images, o))).toBe(true);
  });

  it("names rows only when each row is one class", () => {
    const names = ["T-shirt/top", "Trouser", "Pullover"];
    expect(rowClassNames(Int32Array.of(0, 0, 2, 2), 4, 2, names)).toEqual(["T-shirt/top", "Pullover"]);
    expect(rowClassNames(Int32Array.of(0, 1, 2, 0), 4, 2, names)).toBeUndefined(); // classes in turn (FID grids)
    expect(rowClassNames(undefined, 4, 2, names)).toBeUndefined();
    expect(rowClassNames(Int32Array.of(0, 0), 2, 2, [])).toBeUndefined();
  });
});

// Shared by the generated-module tests (Node and browser): the unetc CLI as a user runs it, a
// tiny class-conditional run trained on the bar images, and the images of a labeled sample grid
// read back out of the PNG that `unetc sample` writes.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { labeledGrid } from "../../runtime/image/labeled-grid.js";
import { writeBarFolder } from "../train/support.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const TINY_SPEC = "models/lesson/emb_unet.unet";
export const TINY_SET = ["nfs=[4]", "num_layers=1", "size=8", "attn_chans=0", "classes=2"];

export function unetc(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "cli/main.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Trains the tiny spec on the bar images, 84 steps (about 10 s on lavapipe): enough that its
 * samples are grays rather than noise clamped to black and white, which would hide differences.
 */
export function trainTinyRun(tmp: string): string {
  const data = join(tmp, "bars");
  writeBarFolder(data, 64);
  const run = join(tmp, "run");
  const t = unetc("train", TINY_SPEC, ...TINY_SET.flatMap((s) => ["--set", s]), "--data", data, "--batch", "16", "--epochs", "12", "--device", "webgpu", "--seed", "3", "--out", run);
  if (t.code !== 0) throw new Error(`unetc train failed:\n${t.stderr}`);
  return run;
}

export interface GridShape {
  readonly count: number;
  readonly cols: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The images of a gray sample grid written by `unetc sample` (runtime/image/labeled-grid.ts), as
 * bytes [count, H, W]. The grid's place depends on the caption and labels, so it is found: the
 * one offset where every image pixel is a uniform scale x scale block, every gap is white and no
 * image is all white (as the page's white margin would be).
 */
export function gridImages(pngPath: string, g: GridShape): Uint8Array {
  const png = PNG.sync.read(readFileSync(pngPath));
  const { scale: k, gap } = labeledGrid(new Float32Array(g.count * g.height * g.width), { ...g, channels: 1 }).layout;
  const rows = Math.ceil(g.count / g.cols);
  const [cw, ch] = [g.width * k, g.height * k];
  const [gw, gh] = [g.cols * cw + (g.cols - 1) * gap, rows * ch + (rows - 1) * gap];
  const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
  const fits = (x0: number, y0: number): boolean => {
    for (let n = 0; n < g.count; n++) {
      const [cx, cy] = [x0 + (n % g.cols) * (cw + gap), y0 + Math.floor(n / g.cols) * (ch + gap)];
      let white = true;
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const v = at(cx + x, cy + y);
          if (v !== at(cx + x - (x % k), cy + y - (y % k))) return false;
          white &&= v === 255;
        }
      }
      if (white) return false;
      if (n % g.cols < g.cols - 1) for (let y = 0; y < ch; y++) for (let x = 0; x < gap; x++) if (at(cx + cw + x, cy + y) !== 255) return false;
    }
    return true;
  };
  const found: Array<[number, number]> = [];
  for (let y0 = 0; y0 + gh <= png.height; y0++) for (let x0 = 0; x0 + gw <= png.width; x0++) if (fits(x0, y0)) found.push([x0, y0]);
  if (found.length !== 1) throw new Error(`${pngPath}: found the ${g.cols}-column grid at ${found.length} places, not one: ${JSON.stringify(found.slice(0, 8))}`);
  const [x0, y0] = found[0];
  const out = new Uint8Array(g.count * g.height * g.width);
  for (let n = 0; n < g.count; n++) {
    const [cx, cy] = [x0 + (n % g.cols) * (cw + gap), y0 + Math.floor(n / g.cols) * (ch + gap)];
    for (let y = 0; y < g.height; y++) for (let x = 0; x < g.width; x++) out[(n * g.height + y) * g.width + x] = at(cx + x * k, cy + y * k);
  }
  return out;
}

/** The largest and the mean absolute difference of two byte images. */
export function byteDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`${a.length} against ${b.length} pixels`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

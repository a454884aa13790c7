// `unetc train` then `unetc sample --class 0` through the CLI, as a user runs them, on the
// reference device with a tiny class-conditional spec and a folder of PNGs; Ctrl-C (SIGINT)
// writes a checkpoint and exits 130, and --resume then ends exactly where an uninterrupted run
// ends; a resume against a different spec is refused with the differences listed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { SPEC, TINY, writeBarFolder } from "./support.js";

const ARGS = ["--import", "tsx", "cli/main.ts"];
const env = { ...process.env, NO_COLOR: "1" };

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), "unetc-train-cli-"));
const data = join(tmp, "bars");
writeBarFolder(data, 12); // 2 classes x 12: 11 train + 1 held out per class; 2 steps of 8 per epoch
const sets = TINY.flatMap((s) => ["--set", s]);
const common = [SPEC, ...sets, "--data", data, "--batch", "8", "--epochs", "15", "--device", "reference", "--seed", "3", "--ema", "0.9"];

describe("unetc train and unetc sample (reference device)", () => {
  const full = join(tmp, "full");

  it("trains, then samples one class into a PNG grid", () => {
    const t = unetc("train", ...common, "--out", full);
    expect(t.stderr).toBe("");
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("epoch 15/15: train loss");
    expect(t.stdout).toMatch(/done in .*: 30 steps/);
    for (const f of ["checkpoint.safetensors", "metrics.jsonl", "loss.png", "config.json"]) expect(existsSync(join(full, f)), f).toBe(true);

    const s = unetc("sample", full, "--class", "0", "--n", "6", "--steps", "5", "--device", "reference", "--out", join(tmp, "grid.png"));
    expect(s.stderr).toBe("");
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("6 images of class 0 (horizontal)"); // classes are the sorted folder names
    expect(s.stdout).toContain("EMA weights");
    const png = PNG.sync.read(readFileSync(join(tmp, "grid.png")));
    // 3 columns x 2 rows of 8x8 images enlarged to 64 px with 4 px gaps, a caption above.
    expect(png.width).toBeGreaterThanOrEqual(3 * 64 + 2 * 4);
    expect(png.height).toBeGreaterThanOrEqual(2 * 64 + 4 + 36);

    const rows = unetc("sample", full, "--steps", "2", "--device", "reference");
    expect(rows.code).toBe(0);
    expect(rows.stdout).toContain("8 images per class (16 in all)");
    expect(rows.stdout).toContain("2 rows (one per class: horizontal, vertical) of 8");
    expect(existsSync(join(full, "samples.png"))).toBe(true);

    // --n is per class for a conditional model; --json: one object on stdout, the prose on stderr.
    const json = unetc("sample", full, "--n", "2", "--steps", "3", "--trajectory", "--json", "--device", "reference", "--out", join(tmp, "two.png"));
    expect(json.code).toBe(0);
    const o = JSON.parse(json.stdout) as { images: number; perClass: number; rows: number; cols: number; rowLabels: string[]; files: { grid: string; trajectory: string } };
    expect([o.images, o.perClass, o.rows, o.cols]).toEqual([4, 2, 2, 2]);
    expect(o.rowLabels).toEqual(["horizontal", "vertical"]);
    expect(o.files).toEqual({ grid: join(tmp, "two.png"), trajectory: join(tmp, "two-trajectory.png") });
    expect(json.stderr).toContain("2 images per class (4 in all)");
    expect(json.stderr).toContain("wrote " + join(tmp, "two-trajectory.png"));
    expect(PNG.sync.read(readFileSync(o.files.trajectory)).width).toBeGreaterThan(4 * 64); // 3 steps + the result

    const bad = unetc("sample", full, "--class", "diagonal", "--device", "reference");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: no class named "diagonal"; the classes are 0 horizontal, 1 vertical\n');
  });

  it("Ctrl-C writes a checkpoint and exits 130; --resume ends where the uninterrupted run ends", async () => {
    const cut = join(tmp, "cut");
    const child = spawn(process.execPath, [...ARGS, "train", ...common, "--out", cut, "--log-every", "1"], { env });
    let stdout = "";
    let signalled = false;
    const code = await new Promise<number | null>((done) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (!signalled && /epoch 1\/15 step 1\/2/.test(stdout)) {
          signalled = true;
          child.kill("SIGINT");
        }
      });
      child.on("close", (c) => done(c));
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/interrupted at step \d+ .*checkpoint written/);
    const stopped = await readCheckpoint(cut);
    expect(stopped.meta.position.step).toBeLessThan(30);

    // A different spec, or a trajectory option that differs, is refused.
    const other = unetc("train", SPEC, "--set", "nfs=[4,12]", "--set", "num_layers=1", "--set", "size=8", "--set", "attn_chans=0", "--set", "classes=2", "--resume", cut, "--device", "reference");
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^error: checkpoint .* does not match the spec \(\d+ mis-shaped\):\n  - `downs\.1\.resnets\.0\.conv1\.2\.weight` has shape \[8, 4, 3, 3\] in the checkpoint; the spec needs \[12, 4, 3, 3\]/);
    const lr = unetc("train", "--resume", cut, "--lr", "0.1");
    expect(lr.code).toBe(1);
    expect(lr.stderr).toContain("--lr 0.1 (the run has 0.01)");

    const r = unetc("train", "--resume", cut); // spec, options and device come from the run
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`resuming ${cut} at step ${stopped.meta.position.step}`);
    const a = await readCheckpoint(full);
    const b = await readCheckpoint(cut);
    expect(b.meta.position).toEqual(a.meta.position);
    for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
  });
});

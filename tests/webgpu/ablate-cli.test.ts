// `unetc ablate` end to end on WebGPU (lavapipe in CI): a tiny spec over a 2x2 grid with 2 seeds,
// FID/KID from the committed classifier, then the same command again, which retrains nothing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AblationReportJson } from "../../runtime/ablate/report.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TINY = ["--set", "nfs=[8,16]", "--set", "num_layers=1", "--set", "size=8", "--set", "attn_chans=0"];
const RECIPE = ["--seeds", "2", "--epochs", "1", "--batch", "16", "--subset", "4", "--eval-subset", "2", "--device", "webgpu", "--fid-n", "16", "--steps", "3", "--grid-n", "4"];

describe.skipIf(typeof gpu === "string")(`unetc ablate on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("runs a 2x2 grid with 2 seeds, writes the table, JSON and charts, and resumes without retraining", { timeout: 900_000 }, () => {
    const out = join(mkdtempSync(join(tmpdir(), "unetc-ablate-gpu-")), "abl");
    const args = ["ablate", "models/lesson/emb_unet.unet", ...TINY, "--grid", "norm=batch,group", "--grid", "emb_at=every,input", ...RECIPE, "--out", out];
    const r = unetc(...args);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
    expect(r.code, r.stderr + r.stdout).toBe(0);

    const md = readFileSync(join(out, "ablation.md"), "utf8");
    for (const v of ["norm=batch emb_at=every", "norm=batch emb_at=input", "norm=group emb_at=every", "norm=group emb_at=input"]) {
      expect(md).toMatch(new RegExp(`\\| ${v} \\|.*\\| 2/2 \\|`));
    }
    const json = JSON.parse(readFileSync(join(out, "ablation.json"), "utf8")) as AblationReportJson;
    expect(json.variants).toHaveLength(4);
    expect(json.seeds).toEqual([42, 43]);
    for (const v of json.variants) {
      expect(v.runs).toHaveLength(2);
      for (const run of v.runs) {
        expect(run.status).toBe("done");
        if (run.status !== "done") continue;
        expect(Number.isFinite(run.metrics.fid)).toBe(true);
        expect(Number.isFinite(run.metrics.kid)).toBe(true);
        expect(run.metrics.evalLoss).toBeGreaterThan(0);
        expect(run.metrics.peakMemoryBytes).toBeGreaterThan(0);
        expect(existsSync(join(run.dir, "eval.json"))).toBe(true);
      }
      expect(v.stats.fid?.n).toBe(2);
    }
    expect(existsSync(join(out, "eval-loss.png"))).toBe(true);
    expect(existsSync(join(out, "samples.png"))).toBe(true);

    // The same command again: every run is finished and evaluated, so nothing is retrained or resampled.
    const again = unetc(...args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.match(/trained already/g)).toHaveLength(8);
    expect(again.stdout).not.toContain("sampling 16 images");
    expect(readFileSync(join(out, "ablation.md"), "utf8")).toBe(md);
  });
});

// --json on train, eval and ablate as a script runs them (`unetc train ... --json | jq .`): stdout
// is one JSON object with the final figures and every file written (absolute paths that exist),
// the prose goes to stderr; a failure leaves the message on stderr, a non-zero exit and an
// `ok: false` object on stdout. The smallest runs, on the reference interpreter.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AblationReportJson } from "../../runtime/ablate/report.js";
import { SPEC, TINY, writeBarFolder } from "../train/support.js";

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(r.stderr).not.toMatch(/\n\s+at .*\(/); // never a stack trace
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stdout parsed whole: it must hold the one object and nothing else. */
const parsed = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;

/** Every non-null path of `files` is absolute and exists. */
function expectFiles(files: unknown): void {
  for (const [role, path] of Object.entries(files as Record<string, string | null>)) {
    if (path === null) continue;
    expect(isAbsolute(path), role).toBe(true);
    expect(existsSync(path), `${role}: ${path}`).toBe(true);
  }
}

const tmp = mkdtempSync(join(tmpdir(), "unetc-json-"));
const bars = join(tmp, "bars");
writeBarFolder(bars, 12); // 11 train + 1 held out per class: 2 steps of 8 per epoch
const sets = TINY.flatMap((s) => ["--set", s]);
// Fashion-MNIST at 8x8 on a 2-image-per-class subset: what eval and ablate rate.
const FMNIST = ["--set", "nfs=[8,16]", "--set", "num_layers=1", "--set", "size=8", "--subset", "2", "--eval-subset", "1", "--epochs", "1", "--device", "reference"];

describe("train --json", () => {
  it("prints the final figures and the run folder's files; the progress goes to stderr", () => {
    const out = join(tmp, "bars-run");
    const r = unetc("train", SPEC, ...sets, "--data", bars, "--batch", "8", "--epochs", "1", "--device", "reference", "--log-every", "1", "--out", out, "--json");
    expect(r.code, r.stderr).toBe(0);
    const o = parsed(r.stdout);
    expect(o).toMatchObject({ command: "train", ok: true, status: "completed", model: "emb_unet", task: "denoise", device: "reference", step: 2, epoch: 1, epochs: 1, batch: 8, evalAccuracy: null, runFolder: out });
    for (const k of ["trainLoss", "evalLoss", "seconds", "stepsPerSecond"]) expect(typeof o[k], k).toBe("number");
    expect(o.adapter).toContain("reference interpreter");
    expect(o.files).toEqual({ checkpoint: join(out, "checkpoint.safetensors"), metrics: join(out, "metrics.jsonl"), lossPlot: join(out, "loss.png"), config: join(out, "config.json") });
    expectFiles(o.files);
    expect(r.stderr).toContain("epoch 1/1 step 1/2: loss");
    expect(r.stderr).toContain("epoch 1/1: train loss");
    expect(r.stderr).toMatch(/done in .*: 2 steps/);

    // A resume of a finished run: still one object.
    const again = unetc("train", "--resume", out, "--json");
    expect(again.code).toBe(0);
    expect(parsed(again.stdout)).toMatchObject({ command: "train", ok: true, status: "finished", step: 2, epochs: 1, runFolder: out });
    expect(again.stderr).toContain("nothing to do");
  });

  it("a value out of range: the message on stderr, exit 2, and an ok: false object", () => {
    const r = unetc("train", SPEC, "--beta2", "1", "--json");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: --beta2 must be in [0, 1), got 1\n");
    expect(parsed(r.stdout)).toEqual({ command: "train", ok: false, exitCode: 2, error: "--beta2 must be in [0, 1), got 1" });
    // Without --json, stdout stays empty.
    const plain = unetc("run", SPEC, "--weights", "w", "--inputs", "i", "--out", "o", "--beta1", "1");
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([2, "", "error: --beta1 must be in [0, 1), got 1\n"]);
  });

  it("a spec that does not check (attn_chans given twice): its diagnostics in the object (as check --json) and on stderr", () => {
    const r = unetc("train", SPEC, ...sets, "--set", "attn_chans=3", "--data", bars, "--device", "reference", "--out", join(tmp, "never"), "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0202]");
    const o = parsed(r.stdout) as { ok: boolean; exitCode: number; diagnostics: { code: string }[] };
    expect([o.ok, o.exitCode]).toEqual([false, 1]);
    expect(o.diagnostics.map((d) => d.code)).toContain("E0202");
    expect(existsSync(join(tmp, "never"))).toBe(false);
  });
});

describe("eval --json", () => {
  it("prints FID, KID and the files written", { timeout: 60_000 }, () => {
    const run = join(tmp, "fmnist-run");
    expect(unetc("train", SPEC, ...FMNIST, "--batch", "10", "--out", run).code).toBe(0);
    const r = unetc("eval", run, "--n", "8", "--steps", "2", "--json");
    expect(r.code, r.stderr).toBe(0);
    const o = parsed(r.stdout);
    expect(o).toMatchObject({ command: "eval", ok: true, model: "emb_unet", n: 8, checkpointStep: 2, device: "reference", sampler: { name: "ddim", steps: 2, eta: 1, seed: 0, ema: false } });
    for (const k of ["fid", "kid", "wallSeconds"]) expect(typeof o[k], k).toBe("number");
    expect(o.files).toEqual({ eval: join(run, "eval.json"), samples: join(run, "eval-samples.png") });
    expectFiles(o.files);
    const record = JSON.parse(readFileSync(join(run, "eval.json"), "utf8")) as { fid: number };
    expect(o.fid).toBe(record.fid);
    expect(r.stderr).toMatch(/FID \d+\.\d\d, KID/);

    const missing = unetc("eval", join(tmp, "no-such-run"), "--json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such run folder");
    expect(parsed(missing.stdout)).toMatchObject({ command: "eval", ok: false, exitCode: 1 });
  });
});

describe("ablate --json", () => {
  it("prints a row per variant (as ablation.json) and the report's files", { timeout: 120_000 }, () => {
    const out = join(tmp, "ablate");
    const r = unetc("ablate", SPEC, ...FMNIST, "--grid", "attn_chans=0,3", "--batch", "16", "--fid-n", "0", "--steps", "2", "--grid-n", "4", "--out", out, "--json");
    expect(r.code, r.stderr).toBe(0);
    const o = parsed(r.stdout) as Record<string, unknown> & { variants: AblationReportJson["variants"]; files: Record<string, string | null> };
    expect(o).toMatchObject({ command: "ablate", ok: true, status: "completed", model: "emb_unet", spec: SPEC, seeds: [42], root: out, runs: { planned: 2, done: 1, failed: 0, invalid: 1 } });
    expect(o.grid).toEqual([{ key: "attn_chans", values: ["0", "3"] }]);
    expect(o.files).toEqual({
      markdown: join(out, "ablation.md"),
      json: join(out, "ablation.json"),
      html: join(out, "ablation.html"),
      lossChart: join(out, "eval-loss.png"),
      fidChart: null, // --fid-n 0
      montage: join(out, "samples.png"),
    });
    expectFiles(o.files);
    // The rows are ablation.json's, with every folder absolute (the runs' are: --out is).
    const file = JSON.parse(readFileSync(join(out, "ablation.json"), "utf8")) as AblationReportJson;
    const absolute = file.variants.map((v) => ({ ...v, dir: join(out, v.dir) }));
    expect(o.variants).toEqual(absolute);
    expect(existsSync(o.variants[0].runs[0].dir)).toBe(true);
    expect(o.variants.map((v) => v.runs[0].status)).toEqual(["done", "invalid"]);
    expect(r.stderr).toContain("variant attn_chans=3 does not check");
    expect(r.stderr).toMatch(/^training$/m);
  });
});

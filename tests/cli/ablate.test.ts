// `unetc ablate` and `unetc eval` as a user runs them, on the reference interpreter: invalid
// variants are reported and skipped (or stop everything with --strict), usage errors exit 2,
// a rerun keeps finished runs, and eval refuses what it cannot rate, all without stack traces.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AblationReportJson } from "../../runtime/ablate/report.js";
import { readSafetensorsFile } from "../../runtime/io/safetensors.js";

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(r.stderr).not.toMatch(/\n\s+at .*\(/); // never a stack trace
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), "unetc-ablate-"));
const TINY = ["--set", "nfs=[8,16]", "--set", "num_layers=1", "--set", "size=8"];
const FAST = ["--epochs", "1", "--batch", "16", "--subset", "4", "--eval-subset", "2", "--device", "reference", "--fid-n", "0", "--steps", "2", "--grid-n", "4"];
const SPEC = "models/lesson/emb_unet.unet";

describe("unetc ablate", () => {
  it("reports an invalid variant with its diagnostic and trains the others; a rerun keeps finished runs", { timeout: 120_000 }, () => {
    const out = join(tmp, "skip");
    // 3 channels per head do not divide 8: that variant cannot be built.
    const args = ["ablate", SPEC, ...TINY, "--grid", "attn_chans=0,3", ...FAST, "--out", out];
    const r = unetc(...args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("variant attn_chans=3 does not check");
    expect(r.stderr).toContain("error[E0303]");
    const md = readFileSync(join(out, "ablation.md"), "utf8");
    expect(md).toMatch(/\| attn_chans=0 \|.*\| 1\/1 \|/);
    expect(md).toMatch(/\| attn_chans=3 \|.*\| invalid \|/);
    expect(md).toContain("`attn_chans=3` invalid: E0303");
    const json = JSON.parse(readFileSync(join(out, "ablation.json"), "utf8")) as AblationReportJson;
    expect(json.variants.map((v) => v.runs[0].status)).toEqual(["done", "invalid"]);
    expect(existsSync(join(out, "attn_chans-3"))).toBe(false);
    expect(existsSync(join(out, "eval-loss.png"))).toBe(true);
    expect(existsSync(join(out, "samples.png"))).toBe(true);

    const again = unetc(...args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("trained already");
    expect(again.stdout).not.toMatch(/^training$/m);
    expect(readFileSync(join(out, "ablation.md"), "utf8")).toBe(md);

    // A run folder removed by hand is trained again; the others stay.
    rmSync(join(out, "attn_chans-0"), { recursive: true });
    const third = unetc(...args);
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/^training$/m);
  });

  it("--strict stops before any training when a variant does not check", () => {
    const out = join(tmp, "strict");
    const r = unetc("ablate", SPEC, ...TINY, "--grid", "attn_chans=0,3", ...FAST, "--strict", "--out", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 of 2 variants do not check (--strict); nothing was trained");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a run folder that holds a run with other options instead of overwriting it", { timeout: 60_000 }, () => {
    const out = join(tmp, "clash");
    expect(unetc("ablate", SPEC, ...TINY, "--grid", "attn_chans=0", ...FAST, "--out", out).code).toBe(0);
    const before = readFileSync(join(out, "attn_chans-0", "seed-42", "checkpoint.safetensors"));
    const r = unetc("ablate", SPEC, ...TINY, "--grid", "attn_chans=0", ...FAST, "--lr", "0.001", "--out", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("holds a run with other options");
    expect(readFileSync(join(out, "attn_chans-0", "seed-42", "checkpoint.safetensors")).equals(before)).toBe(true);
  });

  it("exits 2 with the reason for a malformed grid and 1 when no variant checks", () => {
    const bad = unetc("ablate", SPEC, "--grid", "attn_chans=", ...FAST, "--out", join(tmp, "bad"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--grid attn_chans=: no values");
    const none = unetc("ablate", SPEC, ...TINY, "--grid", "no_such_knob=1,2", ...FAST, "--out", join(tmp, "none"));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no variant checks");
    expect(unetc("ablate", SPEC, ...FAST).code).toBe(2); // no --grid
  });
});

describe("unetc eval", () => {
  it("refuses too few samples, and a classifier; a classifier fine-tunes from another run with --init", { timeout: 120_000 }, async () => {
    const run = join(tmp, "clf");
    const t = unetc("train", "models/metrics/fmnist_classifier.unet", "--set", "nfs=[4,8]", "--set", "stem=4", "--subset", "2", "--eval-subset", "1", "--epochs", "1", "--batch", "10", "--device", "reference", "--out", run);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/held-out accuracy \d+\.\d\d%/);
    const e = unetc("eval", run, "--n", "16");
    expect(e.code).toBe(1);
    expect(e.stderr).toContain("is a classifier");
    // --init starts from that run's weights: with a vanishing learning rate they come out unchanged.
    const ft = join(tmp, "clf-ft");
    const f = unetc("train", "models/metrics/fmnist_classifier.unet", "--set", "nfs=[4,8]", "--set", "stem=4", "--subset", "2", "--eval-subset", "1", "--epochs", "1", "--batch", "10", "--lr", "1e-12", "--device", "reference", "--init", run, "--out", ft);
    expect(f.code, f.stderr).toBe(0);
    const [a, b] = await Promise.all([readSafetensorsFile(join(run, "checkpoint.safetensors")), readSafetensorsFile(join(ft, "checkpoint.safetensors"))]);
    const w0 = a.tensors.get("head.weight")!.data;
    const w1 = b.tensors.get("head.weight")!.data;
    expect(Math.max(...Array.from(w0, (v, i) => Math.abs(v - w1[i])))).toBeLessThan(1e-6);
    expect(JSON.parse(readFileSync(join(ft, "config.json"), "utf8")).config.init.step).toBe(2);
    const few = unetc("eval", join(tmp, "skip", "attn_chans-0", "seed-42"), "--n", "4");
    expect(few.code).toBe(1);
    expect(few.stderr).toContain("at least 8");
  });
});

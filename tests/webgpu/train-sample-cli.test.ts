// `unetc train` then `unetc sample --class 0` end to end on WebGPU (lavapipe in CI), through the
// CLI as a user runs them, for a tiny class-conditional spec and a folder of PNGs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SPEC, TINY, writeBarFolder } from "../train/support.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(typeof gpu === "string")(`unetc train and sample on WebGPU ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it("trains a tiny conditional spec and samples class 0 into a PNG grid", { timeout: 600_000 }, () => {
    const tmp = mkdtempSync(join(tmpdir(), "unetc-gpu-train-"));
    const data = join(tmp, "bars");
    writeBarFolder(data, 12);
    const run = join(tmp, "run");
    const t = unetc("train", SPEC, ...TINY.flatMap((s) => ["--set", s]), "--data", data, "--batch", "8", "--epochs", "2", "--device", "webgpu", "--seed", "3", "--out", run);
    expect(t.stderr).not.toMatch(/\n\s+at .*\(/); // no stack trace
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain("epoch 2/2: train loss");
    expect(existsSync(join(run, "checkpoint.safetensors"))).toBe(true);
    const s = unetc("sample", run, "--class", "0", "--n", "4", "--steps", "3", "--device", "webgpu", "--out", join(tmp, "grid.png"));
    expect(s.code, s.stderr).toBe(0);
    expect(existsSync(join(tmp, "grid.png"))).toBe(true);
  });
});

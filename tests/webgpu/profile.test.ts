// `unetc profile` on WebGPU (lavapipe in CI, which has timestamp-query): one GPU time per kernel,
// the same loss as an unprofiled step, `--opt 0` against `--opt 1`, and the command as a user runs it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { profileStep, type ProfileOptions } from "../../runtime/session/profile.js";
import { Rng } from "../../runtime/session/rng.js";
import { createStepSession, syntheticBatch } from "../../runtime/session/step-session.js";
import { hasTimestamps } from "../../runtime/webgpu/profiler.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();
const skip = typeof gpu === "string" ? gpu : hasTimestamps(gpu) ? undefined : "the adapter has no timestamp-query";

const SPEC = "models/lesson/emb_unet.unet";
const SET = ["nfs=[4,8]", "num_layers=1", "attn_chans=4", "classes=3", "size=8"];
const OPTIONS: ProfileOptions = { batch: 2, steps: 1, warmup: 0, seed: 0, optimizer: "adam", lr: 1e-3, opt: 1 };

function model(): ModelGraph {
  const r = checkSpec(SPEC, { set: SET });
  if (!r.graph) throw new Error("the tiny spec does not check");
  return r.graph;
}

/** One unprofiled step as profileStep runs its first: same initialisation and batch. */
async function unprofiledLoss(m: ModelGraph, opt: 0 | 1): Promise<{ loss: number; kernels: number }> {
  const session = await createStepSession(m, { batch: 2, optimizer: "adam", device: "webgpu", seed: 0, opt });
  try {
    session.feedBatch(syntheticBatch(m, 2, new Rng(1)));
    session.setHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step: 1 });
    session.runner.run();
    return { loss: (await session.runner.read("loss")).data[0], kernels: session.compiled.kernels.length };
  } finally {
    session.runner.destroy();
  }
}

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(skip !== undefined)(`profile on WebGPU ${skip ? `(skipped: ${skip})` : ""}`, () => {
  const m = model();

  it("times every kernel once, shares sum to 1, and the profiled step computes the unprofiled loss", { timeout: 300_000 }, async () => {
    const p = await profileStep(m, OPTIONS, () => {});
    const t = p.timing!;
    expect(p.unavailable).toBeUndefined();
    expect(t.kernels).toHaveLength(p.totals.kernels);
    expect(t.kernels.every((k) => Number.isFinite(k.ms) && k.ms >= 0)).toBe(true);
    expect(t.kernelMs).toBeGreaterThan(0);
    const shares = (xs: readonly { share: number }[]) => xs.reduce((a, x) => a + x.share, 0);
    for (const groups of [t.kernels, t.byKind, t.byPhase, t.byLayer]) expect(shares(groups)).toBeCloseTo(1, 6);
    expect(t.byKind.reduce((a, g) => a + g.kernels, 0)).toBe(p.totals.kernels);
    expect(t.losses).toHaveLength(1);
    expect(t.losses[0]).toBe((await unprofiledLoss(m, 1)).loss);
  });

  it("--opt 0 compiles more kernels and computes the same loss within tolerance", { timeout: 300_000 }, async () => {
    const [on, off] = [await unprofiledLoss(m, 1), await unprofiledLoss(m, 0)];
    expect(off.kernels).toBeGreaterThan(on.kernels);
    expect(Math.abs(off.loss - on.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(on.loss));
  });

  it("unetc profile prints the tables, and --json one parsable object", { timeout: 300_000 }, () => {
    const args = ["profile", "docs/walk.unet", "--batch", "2", "--steps", "1", "--top", "3"];
    const text = unetc(...args);
    expect(text.code, text.stderr).toBe(0);
    for (const s of ["adapter:", "kernels (", "pipelines)", "peak live", "by kind", "by layer", "top 3 kernels", "GFLOP/s"]) expect(text.stdout).toContain(s);
    const json = unetc(...args, "--json", "--opt", "0");
    expect(json.code, json.stderr).toBe(0);
    const p = JSON.parse(json.stdout) as { opt: number; totals: { kernels: number }; timing: { kernels: unknown[]; byLayer: unknown[] } };
    expect(p.opt).toBe(0);
    expect(p.timing.kernels).toHaveLength(p.totals.kernels);
    expect(json.stderr).toContain("profiled step");
  });
});

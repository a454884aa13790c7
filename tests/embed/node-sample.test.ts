// A trained checkpoint through a generated module in Node: `unetc compile RUN --emit ts` writes
// the module, the test imports it, creates the model on Dawn's device with the checkpoint's
// bytes, and samples; the images must be those `unetc sample` writes for the same seed, sampler
// and steps (read back out of its PNG). Both run on the same adapter, but the module's kernels
// are planned for WebGPU's default limits and the CLI's for the adapter's, so a byte may differ
// by rounding.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { toByte, type SampleOutput, type SamplerKind } from "../../runtime/embed/index.js";
import { getGpu } from "../webgpu/gpu-harness.js";
import { byteDiff, gridImages, ROOT, trainTinyRun, unetc } from "./support.js";

const gpu = await getGpu();

/** The part of a generated module this test uses (its own types are checked in emit.test.ts). */
interface Generated {
  readonly classNames: readonly string[];
  createModel(device: GPUDevice, weights: ArrayBuffer | Uint8Array): Promise<{
    readonly ema: boolean;
    readonly schedule: string | undefined;
    sample(r: { n: number; classId?: number | string; seed: number; steps: number; sampler: SamplerKind; onProgress?: (done: number, total: number) => void }): Promise<SampleOutput>;
    destroy(): void;
  }>;
}

describe.skipIf(typeof gpu === "string")(`a generated module in Node ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), "unetc-embed-node-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("samples the same images as `unetc sample` from the same checkpoint, seed and sampler", { timeout: 120_000 }, async () => {
    if (typeof gpu === "string") return;
    const run = trainTinyRun(tmp);
    const out = join(tmp, "gen");
    // The module imports this repository's runtime entry, as an app would import unetc/runtime.
    const runtime = relative(out, join(ROOT, "runtime/embed/index.js"));
    const c = unetc("compile", run, "--emit", "ts", "--out", out, "--batch", "4", "--runtime", runtime);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/wrote .*emb_unet\.ts: emb_unet for 4 images per run/);
    const mod = (await import(pathToFileURL(join(out, "emb_unet.ts")).href)) as Generated;
    expect(mod.classNames).toEqual(["horizontal", "vertical"]);

    const model = await mod.createModel(gpu.device, readFileSync(join(run, "checkpoint.safetensors")));
    expect(model.schedule).toBe("cosine");
    const cases: Array<{ classId?: number | string; n: number; sampler: SamplerKind; seed: number; cli: string[] }> = [
      { classId: "vertical", n: 6, sampler: "ddim", seed: 11, cli: ["--class", "vertical"] },
      { n: 3, sampler: "ddpm", seed: 5, cli: [] },
    ];
    for (const k of cases) {
      const steps: number[] = [];
      const r = await model.sample({ n: k.n, classId: k.classId, seed: k.seed, steps: 4, sampler: k.sampler, onProgress: (done) => steps.push(done) });
      expect(steps).toEqual([1, 2, 3, 4]);
      const png = join(tmp, `cli-${k.seed}.png`);
      const s = unetc("sample", run, ...k.cli, "--n", String(k.n), "--steps", "4", "--seed", String(k.seed), "--sampler", k.sampler, "--out", png);
      expect(s.code, s.stderr).toBe(0);
      const [, , H, W] = r.shape;
      const cli = gridImages(png, { count: r.count, cols: r.cols, height: H, width: W });
      const diff = byteDiff(Array.from(r.images, (v) => toByte(v)), cli);
      expect(diff.max, `max byte difference ${diff.max}, mean ${diff.mean}`).toBeLessThanOrEqual(1);
      expect(diff.mean).toBeLessThan(0.01);
    }
    model.destroy();
  });
});

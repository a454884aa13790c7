// The training loop on the reference device with a tiny spec: the loss falls, a run stopped
// (as Ctrl-C stops it) and resumed, mid-epoch and at an epoch boundary, ends with exactly the
// parameters, buffers, Adam and EMA state of an uninterrupted run, and a checkpoint that does not
// match the spec is refused with every difference listed.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { CheckpointError, readCheckpoint } from "../../runtime/train/checkpoint.js";
import { train, verifyResumable } from "../../runtime/train/loop.js";
import type { MetricsRecord } from "../../runtime/train/metrics.js";
import { checkpointWeights, resolveClass, sampleImages } from "../../runtime/sample/sample.js";
import { barData, config, specInfo, TINY, tinyModel } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-train-"));
const model = tinyModel();
const spec = specInfo(model);
const base = { model, spec, device: "reference" as const, logEvery: 2 };

function records(dir: string): MetricsRecord[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as MetricsRecord);
}

describe("unetc train's loop (reference device)", () => {
  it("lowers the loss and writes metrics, a loss plot and a checkpoint", async () => {
    const out = join(tmp, "short");
    const data = barData(20, 4); // 40 images: 5 steps of 8 per epoch
    const r = await train({ ...base, config: config({ epochs: 4 }), data, out });
    expect(r.status).toBe("completed");
    expect(r.position).toMatchObject({ step: 20, epoch: 4, batchInEpoch: 0 });
    const recs = records(out);
    const trains = recs.filter((x) => x.kind === "train");
    const epochs = recs.filter((x) => x.kind === "epoch");
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(trains[0].loss).toBeGreaterThan(0.8); // about 1: the noise itself
    expect(epochs[3].train_loss).toBeLessThan(0.6 * trains[0].loss);
    expect(epochs[3].eval_loss!).toBeLessThan(epochs[0].eval_loss!);
    expect(trains.every((t) => t.steps <= 2)).toBe(true); // read back every 2 steps, not every step
    const png = PNG.sync.read(readFileSync(join(out, "loss.png")));
    expect(png.width).toBeGreaterThan(100);
    const ckpt = await readCheckpoint(out);
    expect(ckpt.meta.position.step).toBe(20);
    expect(ckpt.meta.schedule).toMatchObject({ kind: "onecycle", totalSteps: 20, maxLr: 0.01 });
    expect(ckpt.meta.spec.overrides).toEqual(TINY);
    expect([...ckpt.tensors.keys()].filter((k) => k.startsWith("adam.m.")).length).toBe(model.parameters.filter((p) => p.kind === "param").length);
    expect(existsSync(join(out, "config.json"))).toBe(true);
  });

  it("stop + resume (mid-epoch and at an epoch boundary) equals an uninterrupted run, bit for bit", async () => {
    const data = barData(20, 2);
    const cfg = config({ epochs: 3, ema: 0.9 }); // 15 steps
    const full = join(tmp, "full");
    await train({ ...base, config: cfg, data, out: full });

    const cut = join(tmp, "cut");
    const a = await train({ ...base, config: cfg, data, out: cut, shouldStop: (s) => s === 7 });
    expect(a.status).toBe("interrupted");
    expect(a.position).toMatchObject({ step: 7, epoch: 1, batchInEpoch: 2 }); // mid-epoch 2
    const b = await train({ ...base, config: cfg, data, out: cut, resume: await readCheckpoint(cut), shouldStop: (s) => s === 10 });
    expect(b.status).toBe("interrupted");
    expect(b.position).toMatchObject({ step: 10, epoch: 2, batchInEpoch: 0 }); // at the end of epoch 2
    const c = await train({ ...base, config: cfg, data, out: cut, resume: await readCheckpoint(cut) });
    expect(c.status).toBe("completed");

    const x = await readCheckpoint(full);
    const y = await readCheckpoint(cut);
    expect([...y.tensors.keys()].sort()).toEqual([...x.tensors.keys()].sort());
    expect([...x.tensors.keys()].some((k) => k.startsWith("ema."))).toBe(true);
    for (const [name, t] of x.tensors) expect(Array.from(y.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    expect(y.meta.position).toEqual(x.meta.position);
    // The epoch summaries agree too (the resumed epoch's train loss is carried in the checkpoint).
    const ex = records(full).filter((r) => r.kind === "epoch");
    const ey = records(cut).filter((r) => r.kind === "epoch");
    expect(ey.map((r) => [r.epoch, r.step])).toEqual(ex.map((r) => [r.epoch, r.step]));
    ey.forEach((r, i) => {
      if (r.kind === "epoch" && ex[i].kind === "epoch") {
        expect(r.train_loss).toBeCloseTo(ex[i].train_loss, 6);
        expect(r.eval_loss).toBe(ex[i].eval_loss);
      }
    });

    // Sampling from it uses the EMA weights; --class by name, prefix or index.
    const w = checkpointWeights(model, y);
    expect(w.ema).toBe(true);
    expect(w.weights.get("conv_in.weight")!.data).toEqual(y.tensors.get("ema.conv_in.weight")!.data);
    expect(checkpointWeights(model, y, false).weights.get("conv_in.weight")!.data).toEqual(y.tensors.get("conv_in.weight")!.data);
    expect(resolveClass("Horizontal", y.meta.classNames)).toBe(1);
    expect(resolveClass("vert", y.meta.classNames)).toBe(0);
    expect(resolveClass("1", y.meta.classNames)).toBe(1);
    expect(() => resolveClass("5", y.meta.classNames)).toThrow(/out of range/);
    expect(() => resolveClass("diagonal", y.meta.classNames)).toThrow(/0 vertical, 1 horizontal/);
    const s = await sampleImages(model, w.weights, { sampler: "ddim", steps: 3, n: 5, classIndex: 1, seed: 0, device: "reference", batch: 2, schedule: "cosine" });
    expect(s.shape).toEqual([5, 1, 8, 8]);
    expect(s.evaluations).toBe(9); // 3 steps x ceil(5 / 2) runs
    expect(Array.from(s.labels!)).toEqual([1, 1, 1, 1, 1]);
    expect(s.images.every((v) => Number.isFinite(v) && v >= -2 && v <= 2)).toBe(true); // the lesson clamps x0 to [-1, 1] in its [-0.5, 0.5] scale, then doubles
    await expect(sampleImages(model, w.weights, { sampler: "euler", steps: 2, n: 2, seed: 0, device: "reference", schedule: "cosine" })).rejects.toThrow(/karras schedule/);
  });

  it("refuses a checkpoint that does not match the spec, listing the differences", async () => {
    const out = join(tmp, "short");
    const ckpt = await readCheckpoint(out);
    const wider = tinyModel(["nfs=[4,12]", "num_layers=1", "size=8", "attn_chans=0", "classes=2"]);
    let err: unknown;
    try {
      verifyResumable(wider, ckpt);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const e = err as CheckpointError;
    expect(e.message).toMatch(/does not match the spec \(\d+ mis-shaped/);
    expect(e.problems).toContain("`downs.1.resnets.0.conv1.2.weight` has shape [8, 4, 3, 3] in the checkpoint; the spec needs [12, 4, 3, 3]");
    expect(e.problems[e.problems.length - 1]).toMatch(/^\.\.\. and \d+ more$/); // Adam's moments differ too; long lists are cut

    const uncond = tinyModel(["nfs=[4,8]", "num_layers=1", "size=8", "attn_chans=0"]);
    expect(() => checkpointWeights(uncond, ckpt)).toThrow(/unexpected tensor `cond_emb.weight`/);
    const deeper = tinyModel(["nfs=[4,8]", "num_layers=2", "size=8", "attn_chans=0", "classes=2"]);
    expect(() => checkpointWeights(deeper, ckpt)).toThrow(/missing tensor `downs.0.resnets.1.conv1.0.weight` of shape \[4\]/);
    await expect(train({ ...base, model: wider, config: config({ epochs: 4 }), data: barData(20, 4), out: join(tmp, "x"), resume: ckpt })).rejects.toThrow(CheckpointError);
  });
});

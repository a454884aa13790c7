// Training a tiny classifier with the loop of `unetc train` on the reference device: cross-entropy
// falls, each epoch logs an eval accuracy, and the held-out accuracy ends well above chance; with
// augmentation, equal seeds give equal runs and a stopped and resumed run ends bit for bit where
// an uninterrupted one does. Classifiers take their image alone: other inputs are refused.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/types.js";
import { readCheckpoint, type Checkpoint } from "../../runtime/train/checkpoint.js";
import { CLASSIFIER_RANGE, fitData, imageInput } from "../../runtime/train/data.js";
import { train } from "../../runtime/train/loop.js";
import type { EpochRecord, MetricsRecord } from "../../runtime/train/metrics.js";
import { checkedModel, CLASSIFIER_TEXT, classifierSpec, shapesData, trainConfig } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-classify-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const model = checkedModel(CLASSIFIER_TEXT);
const base = { model, spec: classifierSpec(), device: "reference" as const, logEvery: 3 };

function records(dir: string): MetricsRecord[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as MetricsRecord);
}

function expectSameTensors(a: Checkpoint, b: Checkpoint): void {
  expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
  for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
}

describe("training a classifier (reference device)", () => {
  it("lowers the cross-entropy and classifies held-out images well above chance", async () => {
    const out = join(tmp, "learn");
    const data = shapesData(24, 5); // 96 images: 12 steps of 8 per epoch; 20 held out
    const r = await train({ ...base, config: trainConfig({ epochs: 8 }), data, out });
    expect(r.status).toBe("completed");
    expect(r.position).toMatchObject({ step: 96, epoch: 8, batchInEpoch: 0 });
    const recs = records(out);
    const trains = recs.filter((x) => x.kind === "train");
    const epochs = recs.filter((x): x is EpochRecord => x.kind === "epoch");
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const last = epochs[7];
    expect(trains[0].loss).toBeGreaterThan(1.0); // about log 4 = 1.39 at the start
    expect(last.train_loss).toBeLessThan(0.5 * trains[0].loss);
    expect(last.eval_loss!).toBeLessThan(0.5 * epochs[0].eval_loss!);
    for (const e of epochs) {
      expect(e.eval_accuracy).toBeDefined();
      expect(e.eval_accuracy! * 20).toBeCloseTo(Math.round(e.eval_accuracy! * 20), 9); // a count of 20
    }
    expect(r.lastEvalAccuracy).toBe(last.eval_accuracy);
    expect(r.lastEvalAccuracy!).toBeGreaterThanOrEqual(0.75); // chance is 0.25
    expect(r.lastEvalLoss).toBe(last.eval_loss);
    const ckpt = await readCheckpoint(out);
    expect(ckpt.meta.classNames).toEqual(["dark", "bright", "vertical", "horizontal"]);
    expect([...ckpt.tensors.keys()].sort()).toEqual(
      ["conv.weight", "conv.bias", "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked", "head.weight", "head.bias"]
        .flatMap((n) => (n.startsWith("norm.running") || n.endsWith("tracked") ? [n] : [n, `adam.m.${n}`, `adam.v.${n}`]))
        .sort(),
    );
  });

  it("with augmentation: equal seeds give equal runs, and stop + resume (mid-epoch, at an epoch end) equals an uninterrupted run", async () => {
    const data = shapesData(6, 2); // 24 images: 3 steps per epoch
    const cfg = trainConfig({ epochs: 3, augment: true }); // 9 steps
    const a = join(tmp, "aug-a");
    const b = join(tmp, "aug-b");
    const ra = await train({ ...base, config: cfg, data, out: a });
    const rb = await train({ ...base, config: cfg, data, out: b });
    expect(rb.lastEvalAccuracy).toBe(ra.lastEvalAccuracy);
    expect(rb.lastTrainLoss).toBe(ra.lastTrainLoss);
    const full = await readCheckpoint(a);
    expectSameTensors(full, await readCheckpoint(b));

    // Augmentation changes the trajectory (it draws from the run's generator).
    const plain = join(tmp, "plain");
    await train({ ...base, config: { ...cfg, augment: false }, data, out: plain });
    expect(Array.from((await readCheckpoint(plain)).tensors.get("conv.weight")!.data)).not.toEqual(Array.from(full.tensors.get("conv.weight")!.data));

    const cut = join(tmp, "aug-cut");
    const first = await train({ ...base, config: cfg, data, out: cut, shouldStop: (s) => s === 4 });
    expect(first.status).toBe("interrupted");
    expect(first.position).toMatchObject({ step: 4, epoch: 1, batchInEpoch: 1 }); // mid-epoch 2
    const second = await train({ ...base, config: cfg, data, out: cut, resume: await readCheckpoint(cut), shouldStop: (s) => s === 6 });
    expect(second.status).toBe("interrupted");
    expect(second.position).toMatchObject({ step: 6, epoch: 2, batchInEpoch: 0 }); // at the end of epoch 2
    const third = await train({ ...base, config: cfg, data, out: cut, resume: await readCheckpoint(cut) });
    expect(third.status).toBe("completed");
    const resumed = await readCheckpoint(cut);
    expectSameTensors(full, resumed);
    expect(resumed.meta.position).toEqual(full.meta.position);
    expect(third.lastEvalAccuracy).toBe(ra.lastEvalAccuracy);
    const ea = records(a).filter((r): r is EpochRecord => r.kind === "epoch");
    const ec = records(cut).filter((r): r is EpochRecord => r.kind === "epoch");
    expect(ec.map((r) => [r.epoch, r.step, r.eval_loss, r.eval_accuracy])).toEqual(ea.map((r) => [r.epoch, r.step, r.eval_loss, r.eval_accuracy]));
    ec.forEach((r, i) => expect(r.train_loss).toBeCloseTo(ea[i].train_loss, 6));
  });
});

describe("what a classifier takes", () => {
  const data = shapesData(2, 1);

  it("fits the data into [-1, 1], padding and pooling as a denoiser's data", () => {
    expect(fitData(model, data, "cosine")).toEqual({ pad: 0, pool: 1, range: CLASSIFIER_RANGE, channels: 1, size: 8 });
    expect(CLASSIFIER_RANGE).toEqual([-1, 1]);
    const small = checkedModel(CLASSIFIER_TEXT, ["size=4"]);
    expect(fitData(small, data, "karras")).toMatchObject({ pad: 0, pool: 2, range: [-1, 1] });
  });

  it.each([
    ["a timestep", "input t: timestep", /returns class logits, so it is trained as a classifier of its image alone; it also takes a timestep input `t`/],
    ["a class label", "input c: label[4]", /it also takes a label input `c`/],
  ])("refuses a classifier that also takes %s (DataError)", async (_what, decl, message) => {
    const text = CLASSIFIER_TEXT.replace("  input x: image[1, size, size]\n", `  input x: image[1, size, size]\n  ${decl}\n`);
    const withInput = checkedModel(text);
    expect(() => imageInput(withInput)).toThrow(DataError);
    expect(() => imageInput(withInput)).toThrow(message);
    expect(() => fitData(withInput, data, "cosine")).toThrow(DataError);
    await expect(train({ ...base, model: withInput, config: trainConfig(), data, out: join(tmp, "refused") })).rejects.toThrow(message);
  });

  it("refuses a classifier whose logits do not match the data's classes", () => {
    const ten = checkedModel(CLASSIFIER_TEXT, ["classes=10"]);
    expect(() => fitData(ten, data, "cosine")).toThrow(/returns 10 logits but shapes has 4 classes/);
  });

  it("refuses a model that returns an image but takes no timestep", () => {
    const text = `version 1\nmodel same() {\n  input x: image[1, 8, 8]\n  return conv2d(x, 1) as conv\n}\n`;
    expect(() => imageInput(checkedModel(text))).toThrow(/returns an image but takes no timestep/);
  });
});

// Weights from anywhere: plain state_dicts written by hand (F32, F16, BF16; counters I64, I32, F32
// or absent) load for a spec; every missing, unexpected and mis-shaped tensor is listed in one
// message with a did-you-mean, exit 1 and no stack trace; `unetc run --weights` takes a state_dict
// without num_batches_tracked.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { numel } from "../../compiler/check/model-graph.js";
import { floatToBfloat, floatToHalf, halfToFloat, readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from "../../runtime/io/safetensors.js";
import { readInitWeights, readStateDictWeights } from "../../runtime/sample/model-weights.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { bits, checkedModel, unetc, writeTestCheckpoint } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-weights-in-"));
const SPEC = "models/lesson/emb_unet.unet";
const SET = ["nfs=[4,8]", "num_layers=1", "size=8", "attn_chans=0", "classes=2"];
const sets = SET.flatMap((s) => ["--set", s]);
const { model } = checkedModel(SPEC, SET);

/** The model's state_dict with values i/1000 (counters 3), as `dtype` floats and `counter` counters; `edit` changes it. */
async function stateDict(name: string, o: { dtype?: "F32" | "F16" | "BF16"; counter?: "I64" | "I32" | "F32" | "none"; edit?: (m: Map<string, TensorToWrite>) => void } = {}): Promise<string> {
  const m = new Map<string, TensorToWrite>();
  let k = 0;
  for (const p of model.parameters) {
    if (p.dtype === "f32") m.set(p.name, { shape: p.shape, data: Float32Array.from({ length: numel(p.shape) }, () => (k++ % 2000) / 1000 - 1), dtype: o.dtype ?? "F32" });
    else if (o.counter !== "none") m.set(p.name, o.counter === "F32" ? { shape: [], data: Float32Array.of(3) } : { shape: [], data: Int32Array.of(3), dtype: o.counter ?? "I64" });
  }
  o.edit?.(m);
  const path = join(tmp, name);
  await writeSafetensorsFile(path, m);
  return path;
}

describe("plain state_dicts load for a spec", () => {
  it("F32, F16 and BF16 floats; I64, I32, F32 or no counters", async () => {
    const f32 = await readStateDictWeights(model, await stateDict("f32.safetensors"));
    const w = model.parameters.find((p) => p.dtype === "f32")!.name;
    const x = Array.from(f32.weights.get(w)!.data);
    for (const [dtype, round] of [
      ["F16", (v: number) => halfToFloat(floatToHalf(v))],
      ["BF16", (v: number) => new Float32Array(new Uint32Array([floatToBfloat(v) << 16]).buffer)[0]],
    ] as const) {
      const path = await stateDict(`${dtype}.safetensors`, { dtype });
      expect((await readSafetensorsFile(path)).tensors.get(w)!.dtype).toBe(dtype);
      const loaded = await readStateDictWeights(model, path);
      expect(bits(loaded.weights.get(w)!.data), dtype).toEqual(bits(x.map(round)));
    }
    const counter = "emb_mlp.0.0.num_batches_tracked";
    for (const c of ["I64", "I32", "F32"] as const) {
      const loaded = await readStateDictWeights(model, await stateDict(`count-${c}.safetensors`, { counter: c }));
      expect(Array.from(loaded.weights.get(counter)!.data), c).toEqual([3]);
    }
    const none = await readStateDictWeights(model, await stateDict("none.safetensors", { counter: "none" }));
    expect(Array.from(none.weights.get(counter)!.data)).toEqual([0]);
  });

  it("the half-precision codecs: exact values, rounding to nearest even, specials", () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [-0, 0x8000],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [Infinity, 0x7c00],
    ];
    for (const [v, h] of cases) expect(floatToHalf(v), String(v)).toBe(h);
    for (const [v, h] of cases) if (h !== 0x7c00 && v !== 65520 && v === Math.fround(halfToFloat(h))) expect(Object.is(halfToFloat(h), v)).toBe(true);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    expect(floatToBfloat(1)).toBe(0x3f80);
    expect(floatToBfloat(1 + 2 ** -8)).toBe(0x3f80); // a tie, to even
    expect(floatToBfloat(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBfloat(-Infinity)).toBe(0xff80);
    expect(floatToBfloat(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe("train --init", () => {
  it("starts from a plain state_dict or from a run", async () => {
    const plain = await readInitWeights(model, await stateDict("init.safetensors", { dtype: "BF16", counter: "none" }));
    expect(plain.step).toBeNull();
    expect(plain.weights.size).toBe(model.parameters.length);
    const run = await writeTestCheckpoint(join(tmp, "init-run"), SPEC, SET);
    const fromRun = await readInitWeights(model, join(tmp, "init-run"));
    expect(fromRun).toMatchObject({ step: 12, ema: true }); // as sample: the EMA average where the run has one
    expect(fromRun.weights.get("conv_in.weight")!.data).toEqual((await readCheckpoint(run.path)).tensors.get("ema.conv_in.weight")!.data);
  });
});

describe("names are checked, all problems in one message", () => {
  it("missing, unexpected and mis-shaped tensors with a did-you-mean: exit 1, no stack trace", async () => {
    const bad = await stateDict("bad.safetensors", {
      edit: (m) => {
        const t = m.get("downs.0.resnets.0.conv1.2.weight")!;
        m.delete("downs.0.resnets.0.conv1.2.weight");
        m.set("downs.0.resnet.0.conv1.2.weight", t); // a typo
        m.delete("conv_out.2.weight");
        m.set("conv_in.bias", { shape: [5], data: new Float32Array(5) });
        m.set("extra.scale", { shape: [1], data: new Float32Array(1) });
      },
    });
    const r = unetc("sample", "--spec", SPEC, ...sets, "--weights", bad, "--device", "reference");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `error: ${bad} does not match the spec ${SPEC} (1 mis-shaped, 2 missing, 2 unexpected):`,
        "  - `conv_in.bias` has shape [5] in the file; the spec needs [4]",
        "  - missing tensor `downs.0.resnets.0.conv1.2.weight` of shape [4, 4, 3, 3]",
        "  - missing tensor `conv_out.2.weight` of shape [1, 4, 3, 3]",
        `  - unexpected tensor \`downs.0.resnet.0.conv1.2.weight\` (not in the spec ${SPEC}); did you mean \`downs.0.resnets.0.conv1.2.weight\` (missing)?`,
        `  - unexpected tensor \`extra.scale\` (not in the spec ${SPEC})`,
        "",
      ].join("\n"),
    );
  });

  it("a DistributedDataParallel state_dict (`module.` before every name) is named as such", async () => {
    const ddp = await stateDict("ddp.safetensors", { edit: (m) => [...m].forEach(([k, v]) => (m.delete(k), m.set(`module.${k}`, v))) });
    const err = await readStateDictWeights(model, ddp).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("every unexpected name starts with `module.`");
  });

  it("a unetc checkpoint given as --weights, and --spec without --weights, are told apart", async () => {
    const half = unetc("sample", "--spec", SPEC, "--device", "reference");
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("--spec needs --weights");
    const both = unetc("sample", tmp, "--spec", SPEC, "--weights", "w.safetensors");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
    const run = await writeTestCheckpoint(join(tmp, "run"));
    await expect(readStateDictWeights(run.model, run.path)).rejects.toThrow(/is a unetc training checkpoint, not a plain state_dict: give its run folder/);
  });
});

describe("unetc run --weights", () => {
  it("takes a state_dict without num_batches_tracked, as PyTorch's load_state_dict does", async () => {
    const weights = await stateDict("run-weights.safetensors", { counter: "none" });
    const inputs = join(tmp, "inputs.safetensors");
    await writeSafetensorsFile(inputs, {
      x: { shape: [2, 1, 8, 8], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)) },
      t: { shape: [2], data: Float32Array.of(0.1, 0.7) },
      c: { shape: [2], data: Int32Array.of(0, 1), dtype: "I64" },
    });
    const out = join(tmp, "out.safetensors");
    const r = unetc("run", SPEC, ...sets, "--weights", weights, "--inputs", inputs, "--out", out, "--mode", "train", "--device", "reference");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const o = await readSafetensorsFile(out);
    expect(o.tensors.get("emb_mlp.0.0.num_batches_tracked")).toEqual({ dtype: "I64", shape: [], data: Int32Array.of(1) });
  });
});

// Weights out and back in through PyTorch: a unetc checkpoint exported as a state_dict loads into
// the course's PyTorch model with load_state_dict(strict=True); that model's state_dict(), saved by
// PyTorch's side (tests/reference/safetensors_io.py), loads into unetc bit for bit; PyTorch's F16
// and BF16 files, and files without num_batches_tracked, load too; sample takes them.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { floatToBfloat, floatToHalf, halfToFloat, readSafetensorsFile } from "../../runtime/io/safetensors.js";
import { readStateDictWeights } from "../../runtime/sample/model-weights.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { exportStateDict } from "../../runtime/train/export-state-dict.js";
import { checkpointWeights } from "../../runtime/sample/sample.js";
import { bits, runTorch, SMALL_CONFIG, SMALL_SET, SMALL_SPEC, torchTests, unetc, writeTestCheckpoint } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-interop-"));
const run = join(tmp, "run");
const exported = join(tmp, "w.safetensors");
const f = (name: string) => join(tmp, name);

describe("unetc export --to state-dict", () => {
  let made: Awaited<ReturnType<typeof writeTestCheckpoint>>;
  beforeAll(async () => {
    made = await writeTestCheckpoint(run);
  });

  it("writes the model's tensors only, in PyTorch's dtypes", async () => {
    const r = unetc("export", run, "--to", "state-dict", "--out", exported);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*w\.safetensors: \d+ tensors \([\d,]+ values\) of emb_unet at step 12, raw weights/);
    const { tensors, metadata } = await readSafetensorsFile(exported);
    expect([...tensors.keys()]).toEqual(made.model.parameters.map((p) => p.name));
    for (const p of made.model.parameters) {
      const t = tensors.get(p.name)!;
      expect(t.dtype, p.name).toBe(p.name.endsWith("num_batches_tracked") ? "I64" : "F32");
      expect(bits(t.data), p.name).toEqual(bits(made.raw.get(p.name)!.data));
    }
    expect(metadata).toMatchObject({ format: "pt", unetc_model: "emb_unet", unetc_step: "12", unetc_weights: "raw" });
  });

  it("--ema takes the EMA average as the model's weights (counters stay the model's)", async () => {
    const ckpt = await readCheckpoint(run);
    const out = f("ema.safetensors");
    const r = await exportStateDict(made.model, ckpt, out, { ema: true });
    expect(r.ema).toBe(true);
    const { tensors } = await readSafetensorsFile(out);
    const ema = checkpointWeights(made.model, ckpt, true).weights;
    expect(bits(tensors.get("conv_in.weight")!.data)).toEqual(bits(ckpt.tensors.get("ema.conv_in.weight")!.data));
    expect(bits(tensors.get("emb_mlp.0.0.running_mean")!.data)).toEqual(bits(ema.get("emb_mlp.0.0.running_mean")!.data));
    expect(tensors.get("emb_mlp.0.0.num_batches_tracked")).toEqual(ckpt.tensors.get("emb_mlp.0.0.num_batches_tracked"));
  });
});

describe(`PyTorch round trip${torchTests.reason}`, () => {
  it.runIf(torchTests.run)("unetc -> state_dict -> load_state_dict(strict=True) -> PyTorch's writer -> unetc, bit for bit; F16, BF16 and no counters load", async () => {
    if (!existsSync(exported)) throw new Error("the export test above must run first");
    const jobs = [
      { config: SMALL_CONFIG, in: exported, out: f("pt.safetensors") },
      { config: SMALL_CONFIG, in: exported, out: f("pt-nocount.safetensors"), drop_counters: true },
      { config: SMALL_CONFIG, in: exported, out: f("pt-f16.safetensors"), dtype: "F16" as const },
      { config: SMALL_CONFIG, in: exported, out: f("pt-bf16.safetensors"), dtype: "BF16" as const },
    ];
    const results = runTorch(jobs);
    const { model, raw } = await writeTestCheckpoint(f("again"));
    const counters = model.parameters.filter((p) => p.name.endsWith("num_batches_tracked"));
    expect(results[0].tensors).toBe(model.parameters.length);
    expect(results[0].counters).toBe(counters.reduce((s, p) => s + Number(raw.get(p.name)!.data[0]), 0));

    const back = await readStateDictWeights(model, f("pt.safetensors"));
    for (const p of model.parameters) expect(bits(back.weights.get(p.name)!.data), p.name).toEqual(bits(raw.get(p.name)!.data));
    const pt = await readSafetensorsFile(f("pt.safetensors"));
    expect(pt.tensors.get(counters[0].name)!.dtype).toBe("I64");

    const noCount = await readStateDictWeights(model, f("pt-nocount.safetensors"));
    for (const p of counters) expect(Array.from(noCount.weights.get(p.name)!.data)).toEqual([0]);

    // torch's .half() and .bfloat16() round to nearest even, as unetc's writers do.
    const half = await readStateDictWeights(model, f("pt-f16.safetensors"));
    const bf = await readStateDictWeights(model, f("pt-bf16.safetensors"));
    expect((await readSafetensorsFile(f("pt-bf16.safetensors"))).tensors.get("conv_in.weight")!.dtype).toBe("BF16");
    for (const p of model.parameters) {
      const x = Array.from(raw.get(p.name)!.data);
      if (p.dtype !== "f32") {
        expect(Array.from(half.weights.get(p.name)!.data), p.name).toEqual(x);
        continue;
      }
      expect(bits(half.weights.get(p.name)!.data), p.name).toEqual(bits(x.map((v) => halfToFloat(floatToHalf(v)))));
      expect(bits(bf.weights.get(p.name)!.data), p.name).toEqual(bits(x.map((v) => new Float32Array(new Uint32Array([floatToBfloat(v) << 16]).buffer)[0])));
    }

    // sample takes PyTorch's file with the spec it fits.
    const s = unetc("sample", "--spec", SMALL_SPEC, ...SMALL_SET.flatMap((x) => ["--set", x]), "--weights", f("pt-bf16.safetensors"), "--n", "1", "--steps", "2", "--device", "reference", "--out", f("s.png"));
    expect(s.stderr).toBe("");
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`sampling 1 images per class (3 in all) from emb_unet (weights ${f("pt-bf16.safetensors")}): ddim (eta 1), 2 steps`);
    expect(existsSync(f("s.png"))).toBe(true);
  });
});

// The runtime entry's weights: its browser-safe safetensors reader agrees with the CLI's
// (runtime/io/safetensors.ts) on what that writes, widens F16, BF16 and F64 to float32, and
// refuses malformed files; loadWeights picks a checkpoint's EMA average as `unetc sample` does,
// reads the schedule, class names and step from its metadata, and lists every problem at once.
import { describe, expect, test } from "vitest";
import type { ModelData } from "../../compiler/wgsl/program-data.js";
import { decodeSafetensors, encodeSafetensors } from "../../runtime/io/safetensors.js";
import { loadWeights, parseSafetensors, SafetensorsParseError, WeightsError } from "../../runtime/embed/index.js";

const model: ModelData = {
  name: "m",
  batch: 1,
  inputs: [{ name: "x", kind: "image", dtype: "f32", shape: [1, 2, 2] }],
  output: { name: "output", dtype: "f32", shape: [1, 2, 2] },
  parameters: [
    { name: "w", shape: [2, 2], ema: "ema.w" },
    { name: "b", shape: [2], ema: "ema.b" },
    { name: "bn.num_batches_tracked", shape: [], optional: true },
  ],
};

/** A little-endian safetensors file by hand, for dtypes the CLI's writer has no typed array for. */
function handMade(dtype: string, shape: number[], bytes: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ t: { dtype, shape, data_offsets: [0, bytes.length] } }));
  const out = new Uint8Array(8 + json.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.length);
  return out;
}

describe("parseSafetensors", () => {
  test("reads what the CLI's writer writes as its reader does (F32, F64, I32, I64), metadata too", () => {
    const bytes = encodeSafetensors(
      { a: { shape: [2, 2], data: Float32Array.of(1, -2.5, 3e-8, 4) }, d: { shape: [2], data: Float64Array.of(0.1, 2) }, i: { shape: [3], data: Int32Array.of(1, -2, 3) }, l: { shape: [1], data: Int32Array.of(7), dtype: "I64" } },
      { format: "x", classes: '["a","b"]' },
    );
    const mine = parseSafetensors(bytes);
    const theirs = decodeSafetensors(bytes);
    expect(mine.metadata).toEqual(theirs.metadata);
    for (const [name, t] of theirs.tensors) {
      expect(mine.tensors.get(name)!.shape).toEqual(t.shape);
      expect(Array.from(mine.tensors.get(name)!.data)).toEqual(Array.from(t.data, (v) => (t.dtype === "F64" ? Math.fround(v) : v)));
    }
    expect(mine.tensors.get("i")!.data).toBeInstanceOf(Int32Array);
    expect(mine.tensors.get("d")!.data).toBeInstanceOf(Float32Array);
  });

  test("widens F16 and BF16 to float32 (normals, subnormals, signs, infinity)", () => {
    // F16: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal), +inf
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00].flatMap((h) => [h & 0xff, h >> 8]);
    expect(Array.from(parseSafetensors(handMade("F16", [6], f16)).tensors.get("t")!.data)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    // BF16: the top halves of float32 1, -3.5, 2^-126
    const bf16 = [0x3f80, 0xc060, 0x0080].flatMap((h) => [h & 0xff, h >> 8]);
    expect(Array.from(parseSafetensors(handMade("BF16", [3], bf16)).tensors.get("t")!.data)).toEqual([1, -3.5, 2 ** -126]);
  });

  test("refuses truncated files, unknown dtypes and offsets that do not fit, naming the file", () => {
    expect(() => parseSafetensors(new Uint8Array(4), "w.safetensors")).toThrow(new SafetensorsParseError("w.safetensors: truncated: 4 bytes, less than the 8-byte header length"));
    expect(() => parseSafetensors(handMade("U8", [1], [1]))).toThrow(/dtype "U8" is not supported/);
    expect(() => parseSafetensors(handMade("F32", [2], [0, 0, 0, 0]))).toThrow(/do not hold 2 F32 values/);
  });
});

describe("loadWeights", () => {
  const raw = { w: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, b: { shape: [2], data: Float32Array.of(5, 6) } };
  const ema = { "ema.w": { shape: [2, 2], data: Float32Array.of(10, 20, 30, 40) }, "ema.b": { shape: [2], data: Float32Array.of(50, 60) } };
  const meta = { train_config: JSON.stringify({ schedule: "karras", epochs: 1 }), classes: '["cat","dog"]', step: "42" };

  test("takes a checkpoint's EMA weights (unless ema: false), and its schedule, classes and step", () => {
    const bytes = encodeSafetensors({ ...raw, ...ema, "adam.m.w": raw.w }, meta);
    const w = loadWeights(model, bytes);
    expect([w.ema, w.schedule, w.classNames, w.step]).toEqual([true, "karras", ["cat", "dog"], 42]);
    expect(Array.from(w.tensors.get("w")!)).toEqual([10, 20, 30, 40]);
    expect(w.tensors.has("bn.num_batches_tracked")).toBe(false);
    const rawOnly = loadWeights(model, bytes, { ema: false });
    expect([rawOnly.ema, Array.from(rawOnly.tensors.get("b")!)]).toEqual([false, [5, 6]]);
    // Without every EMA tensor, the raw weights (as unetc sample does).
    expect(loadWeights(model, encodeSafetensors({ ...raw, "ema.w": ema["ema.w"] })).ema).toBe(false);
  });

  test("takes tensors by name, and lists every missing or mis-shaped one", () => {
    expect(Array.from(loadWeights(model, new Map([["w", raw.w.data], ["b", raw.b.data]])).tensors.get("b")!)).toEqual([5, 6]);
    const bad = encodeSafetensors({ w: { shape: [4], data: raw.w.data } });
    expect(() => loadWeights(model, bad, { name: "bad.safetensors" })).toThrow(WeightsError);
    expect(() => loadWeights(model, bad, { name: "bad.safetensors" })).toThrow("bad.safetensors do not fit model m:\n  - `w` has shape [4]; the model needs [2, 2]\n  - missing tensor `b` of shape [2]");
  });
});

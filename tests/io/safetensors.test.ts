import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  SafetensorsError,
  writeSafetensorsFile,
} from "../../runtime/io/safetensors.js";

/** A file from a raw header object and data bytes, as another writer might produce it. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    return (err as Error).message;
  }
  throw new Error("expected a SafetensorsError");
}

describe("round trip", () => {
  test("all dtypes, metadata, scalars and empty tensors", () => {
    const bytes = encodeSafetensors(
      {
        "downs.0.conv.weight": { shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 7) },
        "bn.running_var": { shape: [2], data: Float64Array.of(1 / 3, 2) },
        step: { shape: [], data: Int32Array.of(42) },
        c: { shape: [3], data: Int32Array.of(-1, 0, 2147483647), dtype: "I64" },
        empty: { shape: [0, 4], data: new Float32Array(0) },
      },
      { format: "pt", model: "emb_unet" },
    );
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0); // padded with spaces
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: "pt", model: "emb_unet" });
    expect([...tensors.keys()]).toEqual(["downs.0.conv.weight", "bn.running_var", "step", "c", "empty"]);
    expect(tensors.get("downs.0.conv.weight")).toEqual({ dtype: "F32", shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 7) });
    expect(tensors.get("bn.running_var")!.data).toEqual(Float64Array.of(1 / 3, 2));
    expect(tensors.get("step")).toEqual({ dtype: "I32", shape: [], data: Int32Array.of(42) });
    expect(tensors.get("c")).toEqual({ dtype: "I64", shape: [3], data: Int32Array.of(-1, 0, 2147483647) });
    expect(tensors.get("empty")!.shape).toEqual([0, 4]);
  });

  test("reads a file as the Python library writes it (unpadded header, sorted offsets)", () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat32(0, 1.5, true);
    new DataView(data.buffer).setBigInt64(8, 7n, true);
    const bytes = rawFile({ b: { dtype: "I64", shape: [1], data_offsets: [8, 16] }, a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data);
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.get("a")!.data).toEqual(Float32Array.of(1.5, 0));
    expect(tensors.get("b")!.data).toEqual(Int32Array.of(7));
  });

  test("files are written atomically and read back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "unetc-st-"));
    try {
      const path = join(dir, "w.safetensors");
      await writeSafetensorsFile(path, new Map([["x", { shape: [2], data: Float32Array.of(1, 2) }]]));
      expect((await readSafetensorsFile(path)).tensors.get("x")!.data).toEqual(Float32Array.of(1, 2));
      expect((await readFile(path)).length).toBeGreaterThan(8);
      await expect(readSafetensorsFile(join(dir, "missing.safetensors"))).rejects.toThrow(SafetensorsError);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("malformed files are SafetensorsErrors naming the problem", () => {
  const f32 = (n: number) => ({ dtype: "F32", shape: [n], data_offsets: [0, 4 * n] });

  test.each([
    ["shorter than the length prefix", () => new Uint8Array(5), "truncated: 5 bytes, less than the 8-byte header length"],
    ["header longer than the file", () => rawFile({}).subarray(0, 9), "truncated: header claims 2 bytes but only 1 follow"],
    ["header not JSON", () => rawFile(null, undefined, "{oops"), "header is not valid UTF-8 JSON"],
    ["header not an object", () => rawFile([1, 2]), "header must be a JSON object"],
    ["unknown dtype", () => rawFile({ x: { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), `tensor 'x': unsupported dtype "F8_E4M3" (supported: F32, F64, F16, BF16, I32, I64)`],
    ["shape/size mismatch", () => rawFile({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), "tensor 'x': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8"],
    ["offsets past the data", () => rawFile({ x: f32(2) }, new Uint8Array(4)), "tensor 'x': data_offsets [0, 8] run past the 4-byte data section (file truncated?)"],
    ["overlapping tensors", () => rawFile({ x: f32(2), y: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), "tensor 'y': data_offsets [4, 12] overlap the previous tensor, which ends at 8"],
    ["a gap", () => rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), "tensor 'x': gap in the data section: bytes [0, 4) belong to no tensor"],
    ["trailing bytes", () => rawFile({ x: f32(1) }, new Uint8Array(8)), "data section has 4 trailing bytes that belong to no tensor"],
    ["negative dims", () => rawFile({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }), "tensor 'x': shape must be an array of non-negative integers, got [-1]"],
    ["bad offsets", () => rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }), "tensor 'x': data_offsets must be [begin, end] with 0 <= begin <= end, got [4,0]"],
    ["non-string metadata", () => rawFile({ __metadata__: { epoch: 3 } }), "__metadata__ entry 'epoch' must be a string, got 3"],
  ])("%s", (_name, make, message) => {
    expect(errorOf(() => decodeSafetensors(make(), "w.safetensors"))).toContain(`w.safetensors: ${message}`);
  });

  test("I64 values outside int32", () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigInt64(0, 1n << 40n, true);
    expect(errorOf(() => decodeSafetensors(rawFile({ c: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, data)))).toBe(
      "<buffer>: tensor 'c': I64 value 1099511627776 at index 0 does not fit in int32",
    );
  });

  test("writing checks shapes and dtypes", () => {
    expect(errorOf(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } }))).toBe("tensor 'x': shape [3] holds 3 values but the data has 2");
    expect(errorOf(() => encodeSafetensors({ x: { shape: [1], data: new Float32Array(1), dtype: "I32" } }))).toBe("tensor 'x': cannot write Float32Array data as I32");
    expect(errorOf(() => encodeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }))).toBe("cannot write a tensor named '__metadata__'");
  });
});

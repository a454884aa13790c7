// safetensors read/write (https://github.com/huggingface/safetensors, "Format"):
//   [u64 little-endian N][N bytes of JSON header][data section]
// header: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//           "__metadata__": { "<key>": "<string>" } }   (offsets relative to the data section)
// Tensors are little-endian, row-major, and tile the data section exactly (no holes, no
// overlaps), as the reference implementation requires. Writers pad the header with spaces
// to 8-byte alignment. I64 is read into Int32Array with a range check (labels, steps, BatchNorm's
// num_batches_tracked). F16 and BF16 (half-precision PyTorch and diffusers files) are widened to
// float32 on reading, exactly; writing them rounds to nearest even.
// Every malformed input ends in a SafetensorsError naming the file and the problem.

import { open, readFile, rename, writeFile, type FileHandle } from "node:fs/promises";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { halfToFloat } from "./safetensors-parse.js";

// read back half precision with the browser-safe reader's decoder; the writers' encoders are below
export { halfToFloat };

export type SafetensorsDType = "F32" | "F64" | "F16" | "BF16" | "I32" | "I64";
export type SafetensorsData = Float32Array | Float64Array | Int32Array;

export class SafetensorsError extends UserError {}

export interface StoredTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

export interface SafetensorsContents {
  readonly tensors: Map<string, StoredTensor>;
  readonly metadata: Record<string, string>;
}

/** A tensor to write; dtype defaults to the data's own (F32, F64, I32); I64 widens Int32Array; F16/BF16 round a float array. */
export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
  readonly dtype?: SafetensorsDType;
}

const ITEM_SIZE: Record<SafetensorsDType, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I32: 4, I64: 8 };
const MAX_HEADER_BYTES = 100_000_000; // the reference implementation's limit
const METADATA_KEY = "__metadata__";

// ---- reading ---------------------------------------------------------------------------

export function decodeSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsContents {
  const fail = (message: string): never => {
    throw new SafetensorsError(`${source}: ${message}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const dataStart = 8 + Number(headerLen);
  if (dataStart > bytes.length) fail(`truncated: header claims ${headerLen} bytes but only ${bytes.length - 8} follow`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(header)) return fail(`header must be a JSON object`);

  const metadata = readMetadata(header[METADATA_KEY], fail);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, raw]) => ({ name, ...readEntry(name, raw, fail) }));
  checkTiling(entries, bytes.length - dataStart, fail);

  const tensors = new Map<string, StoredTensor>();
  for (const e of entries) {
    const data = decodeData(view, dataStart + e.begin, e.dtype, e.count, (i, v) =>
      fail(`tensor '${e.name}': I64 value ${v} at index ${i} does not fit in int32`),
    );
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  return decodeSafetensors(bytes, path);
}

/** Only the `__metadata__` of a file (reads the header, not the tensors): what kind of file it is. */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const fail = (message: string): never => {
    throw new SafetensorsError(`${path}: ${message}`);
  };
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "r");
    const head = Buffer.alloc(8);
    if ((await handle.read(head, 0, 8, 0)).bytesRead < 8) fail("truncated: less than the 8-byte header length");
    const len = head.readBigUInt64LE(0);
    if (len > BigInt(MAX_HEADER_BYTES)) fail(`header length ${len} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const json = Buffer.alloc(Number(len));
    if ((await handle.read(json, 0, json.length, 8)).bytesRead < json.length) fail(`truncated: header claims ${len} bytes`);
    let header: unknown;
    try {
      header = JSON.parse(json.toString("utf8"));
    } catch (err) {
      fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!isObject(header)) return fail("header must be a JSON object");
    return readMetadata(header[METADATA_KEY], fail);
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    throw new SafetensorsError(`${path}: cannot read (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    await handle?.close();
  }
}

type Fail = (message: string) => never;

interface Entry {
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
  readonly count: number;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

function readMetadata(raw: unknown, fail: Fail): Record<string, string> {
  if (raw === undefined) return {};
  if (!isObject(raw)) return fail(`__metadata__ must be an object of strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") fail(`__metadata__ entry '${k}' must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(raw as Record<string, string>) };
}

function readEntry(name: string, raw: unknown, fail: Fail): Entry {
  const where = `tensor '${name}'`;
  if (!isObject(raw)) return fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string" || !(dtype in ITEM_SIZE)) {
    return fail(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(", ")})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    return fail(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const d = dtype as SafetensorsDType;
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const [begin, end] = offsets as [number, number];
  if (end - begin !== count * ITEM_SIZE[d]) {
    fail(`${where}: shape [${shape.join(",")}] of ${d} needs ${count * ITEM_SIZE[d]} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { dtype: d, shape: shape as number[], begin, end, count };
}

/** Tensors must cover the data section exactly, without overlap or gaps. */
function checkTiling(entries: readonly (Entry & { name: string })[], dataLen: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.end > dataLen) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] run past the ${dataLen}-byte data section (file truncated?)`);
    if (e.begin < cursor) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor, which ends at ${cursor}`);
    if (e.begin > cursor) fail(`tensor '${e.name}': gap in the data section: bytes [${cursor}, ${e.begin}) belong to no tensor`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`data section has ${dataLen - cursor} trailing bytes that belong to no tensor`);
}

function decodeData(view: DataView, at: number, dtype: SafetensorsDType, count: number, overflow: (i: number, v: bigint) => never): SafetensorsData {
  switch (dtype) {
    case "F32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, true);
      return out;
    }
    case "F64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, true);
      return out;
    }
    case "F16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
      return out;
    }
    case "BF16": {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      return out;
    }
    case "I32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, true);
      return out;
    }
    case "I64": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(at + 8 * i, true);
        if (v < -2147483648n || v > 2147483647n) overflow(i, v);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

// ---- writing ---------------------------------------------------------------------------

export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, TensorToWrite>);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  const placed = list.map(([name, t]) => {
    const dtype: SafetensorsDType = t.dtype ?? naturalDType(t.data);
    checkWritable(name, t, dtype);
    const begin = offset;
    offset += t.data.length * ITEM_SIZE[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [begin, offset] };
    return { t, dtype, begin };
  });

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLen); // pad with spaces
  for (const { t, dtype, begin } of placed) encodeData(view, 8 + headerLen + begin, dtype, t.data);
  return bytes;
}

/** Writes to a temporary file and renames it into place, so a crash never leaves half a checkpoint. */
export async function writeSafetensorsFile(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot write (${err instanceof Error ? err.message : String(err)})`);
  }
}

function naturalDType(data: SafetensorsData): SafetensorsDType {
  return data instanceof Float32Array ? "F32" : data instanceof Float64Array ? "F64" : "I32";
}

function checkWritable(name: string, t: TensorToWrite, dtype: SafetensorsDType): void {
  if (name === METADATA_KEY || name === "") throw new SafetensorsError(`cannot write a tensor named '${name}'`);
  const shape = `[${t.shape.join(",")}]`;
  if (!t.shape.every((d) => isCount(d))) throw new SafetensorsError(`tensor '${name}': invalid shape ${shape}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw new SafetensorsError(`tensor '${name}': shape ${shape} holds ${count} values but the data has ${t.data.length}`);
  const isInt = t.data instanceof Int32Array;
  if (isInt !== (dtype === "I32" || dtype === "I64")) throw new SafetensorsError(`tensor '${name}': cannot write ${t.data.constructor.name} data as ${dtype}`);
}

function encodeData(view: DataView, at: number, dtype: SafetensorsDType, data: SafetensorsData): void {
  const n = data.length;
  switch (dtype) {
    case "F32":
      for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, data[i], true);
      return;
    case "F64":
      for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, data[i], true);
      return;
    case "F16":
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, floatToHalf(data[i]), true);
      return;
    case "BF16":
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, floatToBfloat(data[i]), true);
      return;
    case "I32":
      for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, data[i], true);
      return;
    case "I64":
      for (let i = 0; i < n; i++) view.setBigInt64(at + 8 * i, BigInt(data[i]), true);
      return;
  }
}

// ---- half precision ----------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A number -> binary16 bits, rounded from its float32 value to nearest even (as torch's .half()). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand down, rounding to nearest even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r++; // a carry into the exponent is still right
  return sign | r;
}

/** A number -> bfloat16 bits (float32's upper half), rounded to nearest even; NaN stays NaN. */
export function floatToBfloat(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

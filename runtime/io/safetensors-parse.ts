// A safetensors reader with no imports, for the browser-safe runtime entry (runtime/embed):
// safetensors.ts beside it reads files with node:fs and throws the CLI's UserError, neither of
// which a page can load. Same format rules (8-byte little-endian header length, JSON header,
// offsets relative to the data section); every tensor is widened or narrowed to what a WebGPU
// program binds: floats (F16, BF16, F32, F64) to Float32Array, integers (I32, I64) to Int32Array.

export type ParsedTensorData = Float32Array | Int32Array;

export interface ParsedTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: ParsedTensorData;
}

export interface ParsedSafetensors {
  readonly tensors: Map<string, ParsedTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

export class SafetensorsParseError extends Error {
  override readonly name = "SafetensorsParseError";
}

const ITEM_SIZE: Readonly<Record<string, number>> = { F16: 2, BF16: 2, F32: 4, F64: 8, I32: 4, I64: 8 };

/** Parses a whole safetensors file held in memory; `source` names it in error messages. */
export function parseSafetensors(input: ArrayBuffer | ArrayBufferView, source = "safetensors"): ParsedSafetensors {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const fail = (message: string): never => {
    throw new SafetensorsParseError(`${source}: ${message}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const dataStart = 8 + headerLen;
  if (dataStart > bytes.length) fail(`truncated: the header claims ${headerLen} bytes but only ${bytes.length - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`the header is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return fail("the header is not a JSON object");
  const tensors = new Map<string, ParsedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const e = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e.dtype === "string" ? e.dtype : "";
    const size = ITEM_SIZE[dtype];
    if (size === undefined) fail(`tensor '${name}': dtype ${JSON.stringify(e.dtype)} is not supported (${Object.keys(ITEM_SIZE).join(", ")})`);
    const shape = Array.isArray(e.shape) && e.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? (e.shape as number[]) : fail(`tensor '${name}': bad shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor '${name}': bad data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * size || dataStart + end > bytes.length) fail(`tensor '${name}': data_offsets [${begin}, ${end}] do not hold ${count} ${dtype} values within the file`);
    const data = decode(view, dataStart + begin, dtype, count);
    if (dtype === "I64" && data.some((v, i) => BigInt(v) !== view.getBigInt64(dataStart + begin + 8 * i, true))) fail(`tensor '${name}': an I64 value does not fit in int32`);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

function decode(view: DataView, at: number, dtype: string, count: number): ParsedTensorData {
  if (dtype === "I32" || dtype === "I64") {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = dtype === "I32" ? view.getInt32(at + 4 * i, true) : Number(view.getBigInt64(at + 8 * i, true));
    return out;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === "F32") out[i] = view.getFloat32(at + 4 * i, true);
    else if (dtype === "F64") out[i] = view.getFloat64(at + 8 * i, true);
    else if (dtype === "BF16") out[i] = bf16(view.getUint16(at + 2 * i, true));
    else out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
  }
  return out;
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 is the top half of a float32. */
function bf16(bits: number): number {
  bf16Scratch.setUint32(0, bits << 16);
  return bf16Scratch.getFloat32(0);
}

/**
 * IEEE binary16 bits -> the float it denotes (every half is exact in float32): sign, 5-bit
 * exponent, 10-bit fraction, subnormals, infinities and NaN included. The Node reader
 * (safetensors.ts) uses it too; it lives here because this module imports nothing.
 */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// A checkpoint's SHA-256 seals, two strings in its safetensors metadata:
//   data_sha256    over the data section (every tensor byte), as `tail -c +N | sha256sum` finds it
//   header_sha256  over the header as written (the 8-byte length and the JSON, padding included)
//                  with both seal values read as 64 zeros
// Together they cover every byte of the file, so damaged weights are never loaded as weights and
// a damaged number in the metadata (the position, the recipe) never silently changes a resumed
// run. Kept out of runtime/io/safetensors.ts: that reader reads any file and knows nothing of
// checkpoints. A file without either seal predates them (the caller decides what to do).
import { createHash } from "node:crypto";

export const DATA_SHA256 = "data_sha256";
export const HEADER_SHA256 = "header_sha256";
const ZERO = "0".repeat(64);
const ZERO_BYTE = 0x30; // "0"

export type SealCheck = { readonly status: "verified" } | { readonly status: "unsealed" } | { readonly status: "corrupt"; readonly why: string };

/** The metadata to encode: the caller's with both seals as zero placeholders, for `sealEncoded` to fill in. */
export function withSealPlaceholders(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return { ...metadata, [DATA_SHA256]: ZERO, [HEADER_SHA256]: ZERO };
}

/** Fills in the seals of safetensors bytes encoded with `withSealPlaceholders` metadata, in place. */
export function sealEncoded(bytes: Uint8Array): Uint8Array {
  const end = headerEnd(bytes);
  const data = valueSpan(bytes, end, DATA_SHA256);
  const header = valueSpan(bytes, end, HEADER_SHA256);
  if (typeof data === "string" || typeof header === "string") throw new Error(`checkpoint seal: ${typeof data === "string" ? data : header}`);
  const headerHash = sha256(bytes.subarray(0, end)); // both values are still zeros
  bytes.set(ascii(sha256(bytes.subarray(end))), data);
  bytes.set(ascii(headerHash), header);
  return bytes;
}

/**
 * Checks the seals of a file that decoded as safetensors (`metadata` is its decoded metadata):
 * verified, unsealed (neither seal present), or corrupt with the reason.
 */
export function checkSeal(bytes: Uint8Array, metadata: Readonly<Record<string, string>>): SealCheck {
  const storedData = metadata[DATA_SHA256];
  const storedHeader = metadata[HEADER_SHA256];
  if (storedData === undefined && storedHeader === undefined) return { status: "unsealed" };
  if (storedData === undefined || storedHeader === undefined) {
    return corrupt(`its header has ${storedData === undefined ? HEADER_SHA256 : DATA_SHA256} but not ${storedData === undefined ? DATA_SHA256 : HEADER_SHA256} (the header is damaged)`);
  }
  const end = headerEnd(bytes);
  const data = valueSpan(bytes, end, DATA_SHA256);
  const header = valueSpan(bytes, end, HEADER_SHA256);
  if (typeof data === "string") return corrupt(`${data} (the header is damaged)`);
  if (typeof header === "string") return corrupt(`${header} (the header is damaged)`);
  const copy = new Uint8Array(bytes.subarray(0, end)); // a copy (a Buffer's slice would be a view)
  copy.fill(ZERO_BYTE, data, data + 64);
  copy.fill(ZERO_BYTE, header, header + 64);
  if (sha256(copy) !== storedHeader) return corrupt(`its header (the metadata and the tensor table) does not match its SHA-256 (${HEADER_SHA256})`);
  if (sha256(bytes.subarray(end)) !== storedData) return corrupt(`its tensor data does not match its SHA-256 (${DATA_SHA256})`);
  return { status: "verified" };
}

const corrupt = (why: string): SealCheck => ({ status: "corrupt", why });

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Where the data section starts: 8 + the header length (a decoded file's, so in range). */
function headerEnd(bytes: Uint8Array): number {
  return 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
}

/**
 * The byte offset of a seal's 64 hex digits in the header, or why it cannot be found. The pattern
 * needs unescaped quotes around the key, so text inside another metadata string never matches.
 */
function valueSpan(bytes: Uint8Array, end: number, key: string): number | string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 8, end - 8).toString("latin1"); // one char per byte
  const found = [...text.matchAll(new RegExp(`"${key}"\\s*:\\s*"([0-9a-f]{64})"`, "g"))];
  if (found.length !== 1) return `its header has ${found.length === 0 ? "no well-formed" : `${found.length}`} ${key}`;
  const m = found[0];
  return 8 + m.index! + m[0].length - 65; // the digits end one byte before the closing quote
}

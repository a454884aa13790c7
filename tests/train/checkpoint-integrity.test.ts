// Checkpoint integrity (issue 14): 1,000 seeded corruptions of a small real checkpoint (bit flips
// in the header and in the data, 64-byte overwrites, truncations, appended garbage, zeroed
// tails, edited metadata) each end in a CheckpointError naming the file: never a crash, a hang or
// a silently different checkpoint. An unsealed (older) checkpoint loads with one warning. Writes
// fsync the file before the rename and the folder after it, and a killed writer's stale
// temporary file is removed by the next load or write.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { removeStaleTemps, writeFileAtomic } from "../../runtime/data/atomic-write.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from "../../runtime/io/safetensors.js";
import { initParameters } from "../../runtime/session/init.js";
import { CheckpointError, decodeCheckpoint, encodeMeta, readCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointMeta } from "../../runtime/train/checkpoint.js";
import { DATA_SHA256, HEADER_SHA256 } from "../../runtime/train/checkpoint-seal.js";
import { oneCycleState } from "../../runtime/train/onecycle.js";
import { config, SPEC, TINY, tinyModel } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-ckpt-integrity-"));
const model = tinyModel();

/** A small real checkpoint: the tiny model's weights, Adam moments and the metadata a run stores. */
function tensors(): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>(initParameters(model, 1));
  const rng = new Rng(5);
  for (const p of model.parameters) {
    if (p.kind !== "param") continue;
    const n = p.shape.reduce((a, b) => a * b, 1);
    out.set(`adam.m.${p.name}`, { shape: p.shape, data: rng.fillNormal(new Float32Array(n), 0.01) });
    out.set(`adam.v.${p.name}`, { shape: p.shape, data: rng.fillUniform(new Float32Array(n)) });
  }
  return out;
}
const META: CheckpointMeta = {
  spec: { path: SPEC, source: readFileSync(SPEC, "utf8"), sha256: "ab".repeat(32), sourcesSha256: "cd".repeat(32), model: model.name, overrides: TINY },
  config: config({ epochs: 3, ema: 0.9 }),
  position: { step: 12, epoch: 2, batchInEpoch: 1, rngState: 123456789, epochLossSum: 1.25, epochLossSteps: 2 },
  schedule: oneCycleState({ maxLr: 0.01, totalSteps: 15 }),
  classNames: ["vertical", "horizontal"],
  modelConfig: model.config,
  device: "reference",
};

function expectSame(c: Checkpoint, ref: Checkpoint): void {
  expect(c.meta).toEqual(ref.meta);
  expect([...c.tensors.keys()]).toEqual([...ref.tensors.keys()]);
  for (const [name, t] of ref.tensors) {
    const u = c.tensors.get(name)!;
    expect(u.shape, name).toEqual(t.shape);
    expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), name).toBe(true);
  }
}

const headerEnd = (b: Uint8Array): number => 8 + Number(Buffer.from(b).readBigUInt64LE(0));

/** Rewrites the header JSON (keeping the 8-byte alignment), as a tool editing the metadata would. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const end = headerEnd(bytes);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, end)).toString("utf8")) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const len = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + len, 0x20);
  head.writeBigUInt64LE(BigInt(len), 0);
  json.copy(head, 8);
  return Buffer.concat([head, bytes.subarray(end)]);
}

type Corruption = (b: Buffer, rng: Rng, end: number) => Buffer;
const flip = (b: Buffer, at: number, rng: Rng): void => {
  b[at] ^= 1 << rng.int(8);
};
const KINDS: Record<string, Corruption> = {
  "bit flip in the header": (b, rng, end) => (flip(b, rng.int(end), rng), b),
  "bit flip in the length prefix": (b, rng) => (flip(b, rng.int(8), rng), b),
  "1-8 bit flips in the data": (b, rng, end) => {
    for (let k = 1 + rng.int(8); k > 0; k--) flip(b, end + rng.int(b.length - end), rng);
    return b;
  },
  "64 random bytes over the middle of the data": (b, rng, end) => {
    const at = end + Math.floor((b.length - end) / 2) - 32 + rng.int(64);
    for (let i = 0; i < 64; i++) b[at + i] = rng.int(256);
    return b;
  },
  "64 random bytes anywhere": (b, rng) => {
    const at = rng.int(b.length - 64);
    for (let i = 0; i < 64; i++) b[at + i] = rng.int(256);
    return b;
  },
  truncated: (b, rng) => b.subarray(0, rng.int(b.length)),
  "appended garbage": (b, rng) => Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(256) }, () => rng.int(256)))]),
  "a zeroed tail (a lost write)": (b, rng) => b.fill(0, rng.int(b.length)),
  "an edited metadata value": (b, rng) =>
    Buffer.from(
      withHeader(b, (h) => {
        const md = h.__metadata__ as Record<string, string>;
        const key = ["step", "epoch", "position", "train_config", "spec_source", "rng_state"][rng.int(6)]; // each holds a digit
        md[key] = md[key].replace(/\d/, (d) => String((Number(d) + 1) % 10));
      }),
    ),
  "swapped data of two same-size tensors": (b, _rng) =>
    Buffer.from(
      withHeader(b, (h) => {
        const same = Object.entries(h).filter(([k]) => k.startsWith("adam.m.")) as [string, { data_offsets: number[] }][];
        const [x, y] = [same[0][1], same.find(([, e]) => e.data_offsets[1] - e.data_offsets[0] === same[0][1].data_offsets[1] - same[0][1].data_offsets[0] && e !== same[0][1])![1]];
        [x.data_offsets, y.data_offsets] = [y.data_offsets, x.data_offsets];
      }),
    ),
};

describe("checkpoint integrity", () => {
  const path = join(tmp, "good.safetensors");

  it("1,000 seeded corruptions each end in a CheckpointError naming the file (never a crash, a hang or a wrong load)", { timeout: 60_000 }, async () => {
    await writeCheckpoint(path, tensors(), META);
    const good = readFileSync(path);
    const ref = decodeCheckpoint(good, path, { onUnsealed: () => expect.fail("sealed") });
    expect(ref.meta).toEqual(META);
    const rng = new Rng(14);
    const names = Object.keys(KINDS);
    const tally = new Map<string, Map<string, number>>();
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      const kind = names[i % names.length];
      const bytes = KINDS[kind](Buffer.from(good), rng, headerEnd(good));
      let outcome: string;
      try {
        const c = decodeCheckpoint(bytes, path, { onUnsealed: () => expect.fail(`${kind}: loaded as unsealed`) });
        // Loading is right only when nothing changed; every corruption here changes a byte.
        expect(bytes.equals(good), `corruption ${i} (${kind}) loaded`).toBe(true);
        expectSame(c, ref);
        outcome = "loaded";
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw new Error(`corruption ${i} (${kind}) crashed the loader: ${String(err)}`, { cause: err });
        expect(err).toBeInstanceOf(UserError);
        expect(err.message, `${i} ${kind}`).toContain(path);
        outcome = /damaged: its tensor data/.test(err.message) ? "data seal" : /damaged/.test(err.message) ? "header seal" : "structure";
      }
      const t = tally.get(kind) ?? new Map<string, number>();
      t.set(outcome, (t.get(outcome) ?? 0) + 1);
      tally.set(kind, t);
    }
    const seconds = (performance.now() - started) / 1000;
    // Both seals and the structural checks each catch their share (figures from seed 14).
    const total = (o: string): number => [...tally.values()].reduce((a, t) => a + (t.get(o) ?? 0), 0);
    expect(total("data seal")).toBeGreaterThan(300);
    expect(total("header seal")).toBeGreaterThan(200);
    expect(total("structure")).toBeGreaterThan(300);
    expect([...tally.values()].reduce((a, t) => a + [...t.values()].reduce((x, y) => x + y, 0), 0)).toBe(1000);
    expect(seconds).toBeLessThan(30);
  });

  it("names the damage: data, header, and a missing seal", async () => {
    await writeCheckpoint(path, tensors(), META);
    const good = readFileSync(path);
    const end = headerEnd(good);
    const data = Buffer.from(good);
    data.fill(0x55, end + Math.floor((data.length - end) / 2), end + Math.floor((data.length - end) / 2) + 64); // the case
    expect(() => decodeCheckpoint(data, path)).toThrow(`${path}: the checkpoint is damaged: its tensor data does not match its SHA-256 (data_sha256)`);
    const step = withHeader(good, (h) => ((h.__metadata__ as Record<string, string>).step = "13"));
    expect(() => decodeCheckpoint(step, path)).toThrow(/the checkpoint is damaged: its header \(the metadata and the tensor table\) does not match its SHA-256/);
    const half = withHeader(good, (h) => delete (h.__metadata__ as Record<string, string>)[DATA_SHA256]);
    expect(() => decodeCheckpoint(half, path)).toThrow(/has header_sha256 but not data_sha256/);
  });

  it("an older, unsealed checkpoint loads with one warning on stderr", async () => {
    await writeCheckpoint(path, tensors(), META);
    const ref = await readCheckpoint(path);
    const old = join(tmp, "old.safetensors");
    writeFileSync(old, encodeSafetensors(tensors(), encodeMeta(META))); // as unetc wrote them before seals
    expect(decodeSafetensors(readFileSync(old)).metadata[HEADER_SHA256]).toBeUndefined();
    const warnings: string[] = [];
    expectSame({ ...(await readCheckpoint(old, { onUnsealed: (m) => warnings.push(m) })), path }, ref);
    expect(warnings).toEqual([`${old} has no SHA-256 seal (written by an older unetc), so it cannot be checked for damage; using it as it is`]);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await readCheckpoint(old);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([`warning: ${warnings[0]}\n`]);
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("atomic writes", () => {
  afterEach(() => vi.restoreAllMocks());

  it("fsync the temporary file before the rename and the folder after it", async () => {
    const dir = mkdtempSync(join(tmp, "sync-"));
    const target = join(dir, "out.bin");
    const probe = await open(join(dir, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const seen: { existed: boolean; content: string | null }[] = [];
    const real = proto.sync;
    vi.spyOn(proto, "sync").mockImplementation(function (this: unknown) {
      seen.push({ existed: existsSync(target), content: existsSync(target) ? readFileSync(target, "utf8") : null });
      return real.call(this);
    });
    await writeFileAtomic(target, Buffer.from("one"));
    await writeFileAtomic(target, Buffer.from("two"));
    // Per write: the file's sync while the target still holds the old bytes, then the folder's after the rename.
    expect(seen).toEqual([
      { existed: false, content: null },
      { existed: true, content: "one" },
      { existed: true, content: "one" },
      { existed: true, content: "two" },
    ]);
    expect(readdirSync(dir).sort()).toEqual(["out.bin", "probe"]);
  });

  it("a killed writer's temporary file is removed by the next load or write; a live writer's is not", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // exited and reaped: its id names no process
    const dir = mkdtempSync(join(tmp, "stale-"));
    const ckpt = join(dir, "checkpoint.safetensors");
    await writeCheckpoint(ckpt, tensors(), META);
    const stale = [`checkpoint.safetensors.tmp-${dead}-1700000000000-0`, `checkpoint.safetensors.tmp-${dead}`]; // this module's names, the safetensors writer's
    const kept = [`checkpoint.safetensors.tmp-${process.pid}-1-0`, "checkpoint.safetensors.tmp-1-2-3", "other.bin.tmp-" + dead]; // live writers; another file
    for (const n of [...stale, ...kept]) writeFileSync(join(dir, n), "half");
    await readCheckpoint(ckpt);
    expect(readdirSync(dir).sort()).toEqual(["checkpoint.safetensors", ...kept].sort());
    for (const n of stale) writeFileSync(join(dir, n), "half");
    await writeCheckpoint(ckpt, tensors(), META);
    expect(readdirSync(dir).sort()).toEqual(["checkpoint.safetensors", ...kept].sort());
    expect(await removeStaleTemps(join(dir, "other.bin"))).toEqual([`other.bin.tmp-${dead}`]);
  });
});

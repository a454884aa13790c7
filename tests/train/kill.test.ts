// `kill -9` of `unetc train` (issue 14), through the CLI on the reference device with the tiny
// spec: a run killed at seeded random moments and while it writes a checkpoint loses at most the
// work since its last checkpoint, never the checkpoint itself; `--resume` after each kill ends
// bit for bit where an uninterrupted run ends, and leaves no temporary file behind. A damaged
// checkpoint is refused by `unetc sample` and `unetc train --resume` with exit 1 and one line.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/diffusion/rng.js";
import { CHECKPOINT_FILE, readCheckpoint } from "../../runtime/train/checkpoint.js";
import { SPEC, TINY, writeBarFolder } from "./support.js";

const ARGS = ["--import", "tsx", "cli/main.ts"];
const env = { ...process.env, NO_COLOR: "1" };
const tmp = mkdtempSync(join(tmpdir(), "unetc-kill-"));
const data = join(tmp, "bars");
writeBarFolder(data, 12); // 11 train images per class: 2 steps of 8 per epoch
const EPOCHS = 6;
const TOTAL = 2 * EPOCHS;
const common = [SPEC, ...TINY.flatMap((s) => ["--set", s]), "--data", data, "--batch", "8", "--epochs", String(EPOCHS), "--device", "reference", "--seed", "5", "--ema", "0.9"];

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function run(args: string[]): { child: ChildProcessWithoutNullStreams; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> } {
  const child = spawn(process.execPath, [...ARGS, ...args], { env });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout })));
  return { child, done };
}

/**
 * How a run is killed: while writing its nth checkpoint (when its temporary file appears), or `ms`
 * after its nth progress line (seeded, at a random point of a step, an eval or a write).
 */
type Kill = { readonly during: "write"; readonly nth: number } | { readonly during: "progress"; readonly nth: number; readonly ms: number };

async function killedRun(args: string[], folder: string, kill: Kill): Promise<{ stdout: string; killed: boolean }> {
  const r = run(args);
  const writes = new Set<string>(); // a file's creation and its writes each raise an event
  const watcher = watch(folder, (_event, name) => {
    if (kill.during !== "write" || !name?.startsWith(`${CHECKPOINT_FILE}.tmp-`)) return;
    writes.add(name);
    if (writes.size === kill.nth) r.child.kill("SIGKILL");
  });
  if (kill.during === "progress") {
    let lines = 0;
    r.child.stdout.on("data", function count(d: Buffer) {
      lines += d.toString().match(/ step \d+\/2: loss/g)?.length ?? 0;
      if (lines < kill.nth) return;
      r.child.stdout.off("data", count);
      setTimeout(() => r.child.kill("SIGKILL"), kill.ms);
    });
  }
  const { signal, stdout } = await r.done;
  watcher.close();
  return { stdout, killed: signal === "SIGKILL" };
}

describe("unetc train under kill -9 (reference device)", () => {
  it("loses at most the work since the last checkpoint, never the checkpoint, and resumes bit for bit", { timeout: 120_000 }, async () => {
    const full = join(tmp, "full");
    const uninterrupted = run(["train", ...common, "--out", full]); // alongside the killed runs: 2 cores

    const cut = join(tmp, "cut");
    mkdirSync(cut);
    const rng = new Rng(9);
    let saved = -1; // the step of the last checkpoint seen
    // Progress kills come in the last epoch but one at the latest, so the run never ends first.
    const progress = (): Kill => ({ during: "progress", nth: 1 + rng.int(Math.max(1, EPOCHS - saved / 2 - 1)), ms: rng.int(300) });
    const kills: (() => Kill)[] = [
      () => ({ during: "write", nth: 2 }), // the fresh run, while it writes epoch 2's checkpoint
      progress,
      () => ({ during: "write", nth: 1 }),
      progress,
    ];
    const log: string[] = [];
    for (const next of kills) {
      const kill = next();
      const resume = existsSync(join(cut, CHECKPOINT_FILE));
      const { stdout, killed } = await killedRun(resume ? ["train", "--resume", cut] : ["train", ...common, "--out", cut], cut, kill);
      if (!existsSync(join(cut, CHECKPOINT_FILE))) {
        log.push(`${JSON.stringify(kill)}: killed before the first checkpoint`);
        continue;
      }
      const ckpt = await readCheckpoint(cut); // never damaged, whenever the kill came
      const step = ckpt.meta.position.step;
      // Epoch k's line ("...; checkpoint written") comes after its checkpoint: nothing it reported is lost.
      const epochsSeen = [...stdout.matchAll(/epoch (\d+)\/\d+: train loss .*; checkpoint written/g)].map((m) => Number(m[1]));
      expect(step).toBeGreaterThanOrEqual(Math.max(saved, 2 * (epochsSeen.at(-1) ?? 0)));
      expect(step % 2).toBe(0); // checkpoints are written at epoch ends only
      expect(ckpt.meta.position.batchInEpoch).toBe(0);
      const stale = readdirSync(cut).filter((f) => f.startsWith(`${CHECKPOINT_FILE}.tmp-`)).length; // removed by the next run
      log.push(`${JSON.stringify(kill)}: ${killed ? "killed" : "finished first"}, checkpoint at step ${step}${stale ? ", a temporary file left" : ""}`);
      saved = step;
    }
    const last = run(existsSync(join(cut, CHECKPOINT_FILE)) ? ["train", "--resume", cut] : ["train", ...common, "--out", cut]);
    const [a, b] = await Promise.all([uninterrupted.done, last.done]);
    expect(a.code, a.stdout).toBe(0);
    expect(b.code, b.stdout).toBe(0);

    const x = await readCheckpoint(full);
    const y = await readCheckpoint(cut);
    expect(y.meta.position).toEqual(x.meta.position);
    expect(y.meta.position.step).toBe(TOTAL);
    for (const [name, t] of x.tensors) expect(Buffer.from(y.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    expect(readdirSync(cut).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(log.filter((l) => l.includes("killed,")), log.join("\n")).toHaveLength(4);
  });

  it("a writer killed mid-write leaves the last checkpoint intact, and its temporary file goes at the next load", { timeout: 60_000 }, async () => {
    const dir = join(tmp, "writer");
    mkdirSync(dir);
    const file = join(dir, CHECKPOINT_FILE);
    const child = spawn(process.execPath, ["--import", "tsx", "tests/train/checkpoint-writer.ts", file], { env });
    const temps = new Set<string>();
    let tempAtKill: string | undefined;
    const watcher = watch(dir, (_event, name) => {
      if (!name?.startsWith(`${CHECKPOINT_FILE}.tmp-`) || temps.has(name)) return;
      temps.add(name);
      if (temps.size === 3) {
        tempAtKill = name; // the third write has just begun: 64 MB still to go
        child.kill("SIGKILL");
      }
    });
    const signal = await new Promise<NodeJS.Signals | null>((done) => child.on("close", (_code, s) => done(s)));
    watcher.close();
    expect(signal).toBe("SIGKILL");
    expect(readdirSync(dir).sort()).toEqual([CHECKPOINT_FILE, tempAtKill!].sort()); // killed mid-write
    const ckpt = await readCheckpoint(file); // intact: the second write's
    expect(ckpt.meta.position.step).toBe(2);
    expect(ckpt.tensors.get("w")!.data.every((v) => v === 2)).toBe(true);
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
  });

  it("a damaged checkpoint: unetc sample and unetc train --resume exit 1 with one line naming the file", () => {
    const run = join(tmp, "damaged");
    mkdirSync(run);
    const file = join(run, CHECKPOINT_FILE);
    if (!existsSync(join(tmp, "full", CHECKPOINT_FILE))) expect(unetc("train", ...common, "--epochs", "1", "--out", join(tmp, "full")).code).toBe(0); // run alone
    copyFileSync(join(tmp, "full", CHECKPOINT_FILE), file);
    const bytes = readFileSync(file);
    bytes.fill(0xa5, bytes.length / 2 - 32, bytes.length / 2 + 32); // 64 bytes in the middle of the data
    writeFileSync(file, bytes);
    const expected = `error: ${file}: the checkpoint is damaged: its tensor data does not match its SHA-256 (data_sha256); it cannot be used (restore a copy, or train again)\n`;
    const s = unetc("sample", run, "--steps", "2", "--device", "reference", "--out", join(tmp, "never.png"));
    expect([s.code, s.stderr]).toEqual([1, expected]);
    expect(existsSync(join(tmp, "never.png"))).toBe(false);
    const t = unetc("train", "--resume", run);
    expect([t.code, t.stderr]).toEqual([1, expected]);
  });
});

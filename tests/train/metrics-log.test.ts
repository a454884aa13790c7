// The training log (runtime/train/metrics.ts): resuming keeps the records up to the checkpoint's
// step and rewrites the file atomically (no temporary file left, the old log intact until the
// new one is complete); a torn last line from a killed run is dropped when the log is read.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MetricsLog, type MetricsRecord } from "../../runtime/train/metrics.js";

const record = (step: number): MetricsRecord => ({ kind: "train", epoch: 1, step, loss: 1 / step, steps: 1, lr: 1e-3, beta1: 0.9, steps_per_s: 5, time_s: step });

describe("MetricsLog", () => {
  it("resumes at a step: later records and a torn last line are dropped, the file rewritten in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "unetc-metrics-"));
    const path = join(dir, "metrics.jsonl");
    writeFileSync(path, [1, 2, 3, 4, 5].map((s) => JSON.stringify(record(s)) + "\n").join(""));
    appendFileSync(path, '{"kind":"train","ep'); // a run killed mid-append
    const log = await MetricsLog.open(path, 3);
    expect(MetricsLog.read(path).map((r) => r.step)).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(["metrics.jsonl"]);
    log.append(record(4));
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(4);
    expect(log.lastTime()).toBe(4);
  });

  it("starts a fresh log, emptying an old one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "unetc-metrics-"));
    const path = join(dir, "metrics.jsonl");
    writeFileSync(path, JSON.stringify(record(1)) + "\n");
    await MetricsLog.open(path);
    expect(readFileSync(path, "utf8")).toBe("");
  });
});

// The run folder's metrics log (metrics.jsonl, one JSON object per line) and its loss plot
// (loss.png and loss.svg: train loss raw and smoothed, eval loss, learning rate below).
//   {"kind":"train","epoch":1,"step":10,"loss":0.41,"steps":10,"lr":..,"beta1":..,"steps_per_s":..,"time_s":..}
//       the mean loss over the `steps` updates that ended at `step` (read back every N steps)
//   {"kind":"epoch","epoch":1,"step":62,"train_loss":0.2,"eval_loss":0.18,"epoch_s":..,"time_s":..}
//       the epoch's mean train loss and the eval loss on the held-out split (fixed noise)
// Epochs count from 1; steps count optimizer updates from 1. `time_s` is the run's training time.
// On --resume, lines past the checkpoint's step are dropped (a killed run may have logged them).
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../data/atomic-write.js";
import { writeLossChart, type LossPoint, type TrainPoint } from "../image/loss-chart.js";

export interface TrainRecord {
  readonly kind: "train";
  readonly epoch: number;
  readonly step: number;
  readonly loss: number;
  readonly steps: number;
  readonly lr: number;
  readonly beta1: number;
  readonly steps_per_s: number;
  readonly time_s: number;
}

export interface EpochRecord {
  readonly kind: "epoch";
  readonly epoch: number;
  readonly step: number;
  readonly train_loss: number;
  readonly eval_loss: number | null;
  /** Classifiers: the fraction of held-out images classified correctly. */
  readonly eval_accuracy?: number;
  readonly epoch_s: number;
  readonly time_s: number;
}

export type MetricsRecord = TrainRecord | EpochRecord;

export class MetricsLog {
  readonly records: MetricsRecord[] = [];

  constructor(readonly path: string) {}

  /** The records of a log file (none when it does not exist). */
  static read(path: string): MetricsRecord[] {
    if (!existsSync(path)) return [];
    const records: MetricsRecord[] = [];
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as MetricsRecord;
        if (r.kind === "train" || r.kind === "epoch") records.push(r);
      } catch {
        // a torn last line from a killed run: drop it
      }
    }
    return records;
  }

  /**
   * Starts a fresh log, or (resuming) keeps the records up to `step` and rewrites the file with
   * them, atomically: a run killed while resuming keeps its log. Appends are not fsynced; a torn
   * last line is dropped when the log is read.
   */
  static async open(path: string, resumeStep?: number): Promise<MetricsLog> {
    const log = new MetricsLog(path);
    if (resumeStep !== undefined) log.records.push(...MetricsLog.read(path).filter((r) => r.step <= resumeStep));
    await writeFileAtomic(path, new TextEncoder().encode(log.records.map((r) => JSON.stringify(r) + "\n").join("")));
    return log;
  }

  append(r: MetricsRecord): void {
    this.records.push(r);
    appendFileSync(this.path, JSON.stringify(r) + "\n");
  }

  lastTime(): number {
    return this.records.length ? this.records[this.records.length - 1].time_s : 0;
  }

  async plot(path: string): Promise<void> {
    const train: TrainPoint[] = [];
    const evals: LossPoint[] = [];
    for (const r of this.records) {
      if (r.kind === "train") train.push({ step: r.step, loss: r.loss, lr: r.lr });
      else if (r.eval_loss !== null) evals.push({ step: r.step, loss: r.eval_loss });
    }
    await writeLossChart(path, { train, eval: evals });
  }
}

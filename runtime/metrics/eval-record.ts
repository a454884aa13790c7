// eval.json: FID and KID of a run's samples with everything needed to tell whether they are still
// current (classifier, sample count, sampler, checkpoint step). `unetc eval` writes it; an
// ablation reuses it when it matches what it would compute.
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../data/atomic-write.js";
import type { SamplerKind } from "../diffusion/samplers.js";
import type { DeviceKind } from "../session/runner.js";
import type { ModelWeights } from "../sample/model-weights.js";
import type { RunEvaluation } from "./evaluate-run.js";

export const EVAL_FILE = "eval.json";
export const EVAL_SAMPLES_FILE = "eval-samples.png";

/** What eval.json holds. */
export interface EvalRecord {
  readonly fid: number;
  readonly kid: number;
  readonly n: number;
  readonly reference: { readonly images: number; readonly source: string; readonly size: number };
  readonly classifier: { readonly id: string; readonly features: number };
  readonly sampler: { readonly name: SamplerKind; readonly steps: number; readonly eta: number; readonly seed: number; readonly ema: boolean };
  /** The checkpoint's training step; null for a plain state_dict. */
  readonly checkpointStep: number | null;
  /** The weights file, for a plain state_dict. */
  readonly weights?: string;
  readonly device: DeviceKind;
  readonly seconds: { readonly sample: number; readonly metrics: number };
}

/** How the samples were drawn. */
export interface EvalSampling {
  readonly sampler: SamplerKind;
  readonly steps: number;
  readonly eta: number;
  readonly seed: number;
  readonly device: DeviceKind;
}

export function evalRecord(ev: RunEvaluation, w: ModelWeights, o: EvalSampling): EvalRecord {
  const q = ev.quality;
  return {
    fid: q.fid,
    kid: q.kid,
    n: q.n,
    reference: { images: q.referenceCount, source: "fashion-mnist test split", size: q.size },
    classifier: { id: q.classifier, features: q.featureDim },
    sampler: { name: o.sampler, steps: o.steps, eta: o.eta, seed: o.seed, ema: ev.ema },
    checkpointStep: w.step,
    ...(w.step === null ? { weights: w.path } : {}),
    device: o.device,
    seconds: ev.seconds,
  };
}

export async function writeEvalRecord(path: string, rec: EvalRecord): Promise<void> {
  await writeFileAtomic(path, Buffer.from(JSON.stringify(rec, null, 2) + "\n"));
}

/** The record at `path`; undefined when absent or damaged (it is then recomputed). */
export function readEvalRecord(path: string): EvalRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as EvalRecord;
  } catch {
    return undefined;
  }
}

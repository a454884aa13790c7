// Training checkpoints: one safetensors file holding the model's parameters and buffers by their
// state_dict names, Adam's moments (`adam.m.<p>`, `adam.v.<p>`), the EMA weights (`ema.<X>`) when
// the run keeps them, and string metadata: the spec (path, every file's text and hash), the overrides, the
// training options, the position (step, epoch, batch within the epoch), the noise RNG's state and
// the learning-rate schedule's state. Sealed with SHA-256s of its bytes (checkpoint-seal.ts), checked
// on every load, and written atomically (temporary file fsynced, renamed, folder fsynced).
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { StoredSource } from "../../compiler/check/spec-sources.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor, type TensorToWrite } from "../io/safetensors.js";
import { stateDictOf, stateDictProblems, type ExpectedTensor } from "../io/state-dict.js";
import type { OneCycleState } from "./onecycle.js";
import { adamStateName, emaName } from "../../compiler/ir/step-contract.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { readFile } from "node:fs/promises";
import { removeStaleTemps, writeFileAtomic } from "../data/atomic-write.js";
import { checkSeal, sealEncoded, withSealPlaceholders } from "./checkpoint-seal.js";

export const CHECKPOINT_FILE = "checkpoint.safetensors";
export const CHECKPOINT_FORMAT = "unetc-checkpoint/1";

/** A checkpoint that cannot be used: the message says why; `problems` lists each difference. */
export class CheckpointError extends UserError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join("\n")}` : message);
  }
}

/** Where a run is in its training, and everything needed to continue it exactly. */
export interface TrainPosition {
  /** Optimizer updates done so far. */
  readonly step: number;
  /** The epoch in progress (0-based); equals `epochs` when training is complete. */
  readonly epoch: number;
  /** Batches of `epoch` already done. */
  readonly batchInEpoch: number;
  /** State of the noise generator. */
  readonly rngState: number;
  /** Sum of the per-step losses of `epoch` so far, and their count (the epoch's mean train loss survives a resume). */
  readonly epochLossSum: number;
  readonly epochLossSteps: number;
}

/** The training options that determine a run's trajectory (stored, and restored on --resume). */
export interface TrainConfig {
  readonly data: string;
  readonly subset?: number;
  readonly evalSubset?: number;
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly schedule: "cosine" | "karras";
  readonly optimizer: "adam" | "adamw";
  readonly eps: number;
  readonly beta2: number;
  readonly weightDecay: number;
  readonly ema?: number;
  readonly seed: number;
  /** Classifiers: random flips and 1-pixel shifts of each training image. */
  readonly augment?: boolean;
  /** Started from these weights (a checkpoint's path and step; step null: a plain state_dict) instead of a fresh initialisation. */
  readonly init?: { readonly path: string; readonly step: number | null };
}

export interface SpecInfo {
  /** The spec file as given. */
  readonly path: string;
  /** The root file's text. */
  readonly source: string;
  /** SHA-256 of the root file's text. */
  readonly sha256: string;
  /** SHA-256 over every loaded file (root and imports) with its path. */
  readonly sourcesSha256: string;
  readonly model: string;
  readonly overrides: readonly string[];
  /** Every file of the spec (root and imports) with its text and hash: the model is checked again from these, not from the disk (absent in older checkpoints). */
  readonly files?: readonly StoredSource[];
}

export interface CheckpointMeta {
  readonly spec: SpecInfo;
  readonly config: TrainConfig;
  readonly position: TrainPosition;
  readonly schedule: OneCycleState;
  readonly classNames: readonly string[];
  /** The model's parameters after defaults and overrides (informational). */
  readonly modelConfig: Record<string, unknown>;
  readonly device: string;
}

export interface Checkpoint {
  readonly meta: CheckpointMeta;
  readonly tensors: Map<string, StoredTensor>;
  readonly path: string;
}

const KEYS = {
  format: "format",
  spec: "spec",
  specSource: "spec_source",
  specSha: "spec_sha256",
  specFiles: "spec_files",
  config: "train_config",
  position: "position",
  step: "step",
  epoch: "epoch",
  rng: "rng_state",
  schedule: "schedule",
  classes: "classes",
  modelConfig: "model_config",
  overrides: "overrides",
  device: "device",
} as const;

export function encodeMeta(m: CheckpointMeta): Record<string, string> {
  const { source, files, ...spec } = m.spec;
  return {
    ...(files ? { [KEYS.specFiles]: JSON.stringify(files) } : {}),
    [KEYS.format]: CHECKPOINT_FORMAT,
    [KEYS.spec]: JSON.stringify(spec),
    [KEYS.specSource]: source,
    [KEYS.specSha]: m.spec.sha256,
    [KEYS.overrides]: JSON.stringify(m.spec.overrides),
    [KEYS.config]: JSON.stringify(m.config),
    [KEYS.position]: JSON.stringify(m.position),
    [KEYS.step]: String(m.position.step),
    [KEYS.epoch]: String(m.position.epoch),
    [KEYS.rng]: String(m.position.rngState),
    [KEYS.schedule]: JSON.stringify(m.schedule),
    [KEYS.classes]: JSON.stringify(m.classNames),
    [KEYS.modelConfig]: JSON.stringify(m.modelConfig),
    [KEYS.device]: m.device,
  };
}

function decodeMeta(md: Record<string, string>, path: string): CheckpointMeta {
  if (md[KEYS.format] !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      md[KEYS.format] === undefined
        ? `${path}: not a unetc training checkpoint (no "${KEYS.format}" metadata)`
        : `${path}: checkpoint format "${md[KEYS.format]}" is not supported (this unetc reads ${CHECKPOINT_FORMAT})`,
    );
  }
  const json = <T>(key: string): T => {
    const text = md[key];
    if (text === undefined) throw new CheckpointError(`${path}: the checkpoint metadata has no "${key}"`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CheckpointError(`${path}: the checkpoint metadata "${key}" is not valid JSON`);
    }
  };
  const spec = json<Omit<SpecInfo, "source">>(KEYS.spec);
  const source = md[KEYS.specSource];
  if (source === undefined) throw new CheckpointError(`${path}: the checkpoint metadata has no "${KEYS.specSource}"`);
  const files = md[KEYS.specFiles] === undefined ? undefined : json<StoredSource[]>(KEYS.specFiles);
  return {
    spec: { ...spec, source, ...(files ? { files } : {}) },
    config: json<TrainConfig>(KEYS.config),
    position: json<TrainPosition>(KEYS.position),
    schedule: json<OneCycleState>(KEYS.schedule),
    classNames: json<string[]>(KEYS.classes),
    modelConfig: json<Record<string, unknown>>(KEYS.modelConfig),
    device: md[KEYS.device] ?? "unknown",
  };
}

/** A run folder or a checkpoint file -> the checkpoint file's path. */
export function checkpointPath(runOrFile: string): string {
  if (existsSync(runOrFile) && statSync(runOrFile).isDirectory()) {
    const p = join(runOrFile, CHECKPOINT_FILE);
    if (!existsSync(p)) throw new CheckpointError(`${runOrFile}: no ${CHECKPOINT_FILE} in this folder (is it a run folder?)`);
    return p;
  }
  if (!existsSync(runOrFile)) throw new CheckpointError(`${runOrFile}: no such run folder or checkpoint file`);
  return runOrFile;
}

export interface ReadCheckpointOptions {
  /** Told of a checkpoint without SHA-256 seals (written before they existed); default: a warning on stderr. */
  readonly onUnsealed?: (message: string) => void;
}

export async function readCheckpoint(runOrFile: string, o: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const path = checkpointPath(runOrFile);
  await removeStaleTemps(path); // a killed writer's temporary file
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(`${path}: cannot read the checkpoint (${err instanceof Error ? err.message : String(err)})`);
  }
  return decodeCheckpoint(bytes, path, o);
}

/** A checkpoint file's bytes -> the checkpoint, its seals checked (checkpoint-seal.ts); any problem is a CheckpointError naming `path`. */
export function decodeCheckpoint(bytes: Uint8Array, path: string, o: ReadCheckpointOptions = {}): Checkpoint {
  let contents;
  try {
    contents = decodeSafetensors(bytes, path);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new CheckpointError(`not a readable checkpoint: ${err.message}`);
    throw err;
  }
  const seal = checkSeal(bytes, contents.metadata);
  if (seal.status === "corrupt") throw new CheckpointError(`${path}: the checkpoint is damaged: ${seal.why}; it cannot be used (restore a copy, or train again)`);
  if (seal.status === "unsealed" && contents.metadata[KEYS.format] === CHECKPOINT_FORMAT) {
    const say = o.onUnsealed ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    say(`${path} has no SHA-256 seal (written by an older unetc), so it cannot be checked for damage; using it as it is`);
  }
  return { meta: decodeMeta(contents.metadata, path), tensors: contents.tensors, path };
}

/** Sealed (checkpoint-seal.ts) and written atomically: fsynced, renamed into place, the folder fsynced. */
export async function writeCheckpoint(path: string, tensors: Map<string, TensorToWrite>, meta: CheckpointMeta): Promise<void> {
  const bytes = sealEncoded(encodeSafetensors(tensors, withSealPlaceholders(encodeMeta(meta))));
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    throw new CheckpointError(`${path}: cannot write the checkpoint (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** What the checkpoint must hold for a model: its state_dict, plus Adam and EMA state where asked. */
export function expectedTensors(model: ModelGraph, o: { optimizer: boolean; ema: boolean; emaTargets?: readonly string[] }): Map<string, ExpectedTensor> {
  const out = stateDictOf(model);
  if (o.optimizer) {
    for (const p of model.parameters) {
      if (p.kind !== "param") continue;
      out.set(adamStateName("m", p.name), { shape: p.shape, dtype: "f32" });
      out.set(adamStateName("v", p.name), { shape: p.shape, dtype: "f32" });
    }
  }
  if (o.ema) {
    const shapes = new Map(model.parameters.map((p) => [p.name, p.shape]));
    for (const name of o.emaTargets ?? []) out.set(emaName(name), { shape: shapes.get(name)!, dtype: "f32" });
  }
  return out;
}

/**
 * Compares a checkpoint's tensors with what a model needs (as PyTorch's load_state_dict does) and
 * throws a CheckpointError listing every missing, unexpected and mis-shaped tensor.
 */
export function verifyTensors(tensors: ReadonlyMap<string, StoredTensor>, expected: ReadonlyMap<string, ExpectedTensor>, what: string, limit = 30): void {
  const p = stateDictProblems(tensors, expected, { what, noun: "checkpoint", limit });
  if (p) throw new CheckpointError(p.heading, p.problems);
}

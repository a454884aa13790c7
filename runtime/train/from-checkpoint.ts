// A checkpoint carries the spec it was trained from (every file's text, overrides, model name): the
// model is rebuilt by checking those texts again, so a run needs no spec file to sample or resume,
// and an edit of an imported file (models/std) since training changes nothing it does.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { checkSpec, type CheckResult } from "../../compiler/check/check.js";
import type { SpecFiles } from "../../compiler/check/load.js";
import { changedOnDisk, storedFiles, storeSources } from "../../compiler/check/spec-sources.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import type { DeviceKind } from "../session/runner.js";
import { CheckpointError, type Checkpoint, type SpecInfo } from "./checkpoint.js";

/** A spec's check: the result (diagnostics to show, warnings too) and the model when it has no errors. */
export interface CheckedModel {
  readonly result: CheckResult;
  readonly model: ModelGraph | undefined;
  /** One line to show: the model was checked from stored sources that differ from the files on disk. */
  readonly note?: string;
}

export function checkModel(path: string, o: { set?: readonly string[]; model?: string; text?: string; files?: SpecFiles }): CheckedModel {
  const result = checkSpec(path, { set: o.set ? [...o.set] : undefined, model: o.model, text: o.text, files: o.files });
  return { result, model: result.graph && !hasErrors(result.diagnostics) ? result.graph : undefined };
}

/** The model a checkpoint was trained from: its stored spec files, overrides and model name. */
export function modelFromCheckpoint(ckpt: Checkpoint): CheckedModel {
  const s = ckpt.meta.spec;
  // Older checkpoints stored the root file only: their imports are read from the disk.
  if (!s.files) return checkModel(s.path, { text: s.source, set: s.overrides, model: s.model });
  const isSource = (f: unknown): boolean => typeof f === "object" && f !== null && ["key", "path", "sha256", "text"].every((k) => typeof (f as Record<string, unknown>)[k] === "string");
  if (!Array.isArray(s.files) || !s.files.every(isSource)) throw new CheckpointError(`${ckpt.path}: the checkpoint metadata "spec_files" is not a list of {key, path, sha256, text}`);
  const checked = checkModel(s.path, { text: s.source, set: s.overrides, model: s.model, files: storedFiles(s.path, s.files) });
  const { changed, missing } = changedOnDisk(s.path, s.files);
  if (changed.length + missing.length === 0) return checked;
  const what = [changed.length && `${changed.join(", ")} changed`, missing.length && `${missing.join(", ")} not found`].filter(Boolean).join("; ");
  return { ...checked, note: `note: using the spec files stored in ${ckpt.path} (on disk, ${what} since it was written)` };
}

/** Why modelFromCheckpoint found no model (its diagnostics say the rest). */
export const staleSpecMessage = (ckpt: Checkpoint): string => `the spec stored in ${ckpt.path} no longer checks (shown above)`;

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** What a checkpoint stores of the spec: the root file's text, hashes of it and of all its files. */
export function specInfo(path: string, r: CheckResult, model: ModelGraph, overrides: readonly string[]): SpecInfo {
  const abs = resolve(path);
  const root = r.spec.sources.find((s) => resolve(s.path) === abs) ?? r.spec.sources[0];
  const all = [...r.spec.sources].sort((a, b) => (a.path < b.path ? -1 : 1)).map((s) => `${s.path}\0${s.text}\0`).join("");
  const files = storeSources(path, r.spec.sources);
  return { path, source: root.text, sha256: sha256(root.text), sourcesSha256: sha256(all), model: model.name, overrides: [...overrides], files };
}

/** The device the run was trained on when it is one unetc runs on; otherwise `fallback`. */
export function trainedDevice(ckpt: Checkpoint, fallback: DeviceKind = "webgpu"): DeviceKind {
  const d = ckpt.meta.device;
  return d === "webgpu" || d === "reference" ? d : fallback;
}

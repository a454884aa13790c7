// A spec's files kept with what was built from them (a checkpoint stores them), so that the model
// can be checked again from those texts even after the files on disk changed. Each file is keyed
// by where an import finds it, independent of the machine and folder: `models:std/lesson.unet`
// for a file of unetc's models/ folder, otherwise its path relative to the root spec's folder.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { diag } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";
import { MODELS_DIR } from "../front/package-root.js";
import type { SpecFiles } from "./load.js";

/** One file of a spec as stored: its key (see above), its path when stored, its text and hash. */
export interface StoredSource {
  readonly key: string;
  readonly path: string;
  readonly sha256: string;
  readonly text: string;
}

const MODELS_KEY = "models:";

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

const posix = (p: string): string => p.split(sep).join("/");

/** The key of the file at `abs` for a spec whose root file is `rootPath`. */
export function sourceKey(abs: string, rootPath: string): string {
  const inModels = relative(MODELS_DIR, abs);
  if (!inModels.startsWith("..") && !isAbsolute(inModels)) return MODELS_KEY + posix(inModels);
  return posix(relative(dirname(resolve(rootPath)), abs));
}

/** Where the file of `key` is now, for a spec whose root file is `rootPath`. */
export function keyPath(key: string, rootPath: string): string {
  return key.startsWith(MODELS_KEY) ? resolve(MODELS_DIR, key.slice(MODELS_KEY.length)) : resolve(dirname(resolve(rootPath)), key);
}

/** The sources a check loaded (root and imports), to store. Their paths are as the loader showed them (relative to the working folder). */
export function storeSources(rootPath: string, sources: readonly SourceFile[]): StoredSource[] {
  return sources.map((s) => ({ key: sourceKey(resolve(s.path), rootPath), path: s.path, sha256: sha256Hex(s.text), text: s.text }));
}

/** The stored sources as the loader's files: an import finds exactly the file it found when they were stored. */
export function storedFiles(rootPath: string, stored: readonly StoredSource[]): SpecFiles {
  const byKey = new Map(stored.map((s) => [s.key, s.text]));
  return {
    isFile: (abs) => byKey.has(sourceKey(abs, rootPath)),
    read: (abs) => {
      const text = byKey.get(sourceKey(abs, rootPath));
      return text !== undefined ? { text } : { diagnostic: diag("E0900", `${abs} is not among the stored spec sources`) };
    },
  };
}

/** The stored files whose copy on disk now differs from the stored text (or is gone), by their current path. */
export function changedOnDisk(rootPath: string, stored: readonly StoredSource[]): { changed: string[]; missing: string[] } {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const s of stored) {
    const abs = keyPath(s.key, rootPath);
    const shown = displayPath(abs);
    if (!existsSync(abs) || !statSync(abs).isFile()) missing.push(shown);
    else if (sha256Hex(readFileSync(abs, "utf8")) !== s.sha256) changed.push(shown);
  }
  return { changed, missing };
}

function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
}

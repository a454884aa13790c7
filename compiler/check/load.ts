// Loads a spec and everything it imports. Imports resolve relative to the importing file, then
// relative to the models/ folder shipped with unetc (`import "std/lesson"`). The root file's
// definitions shadow imported ones, which is how a user swaps a standard block for their own.
// Files come from the disk, or from a `SpecFiles` in memory (the sources a checkpoint stored).
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";
import type { BlockDecl } from "../front/ast.js";
import { parseSource } from "../front/parse.js";
import type { Program } from "./elaborate.js";
import { MODELS_DIR } from "../front/package-root.js";

export interface LoadedSpec {
  program: Program;
  /** Models defined in the root file (first) and in imports. */
  rootModels: BlockDecl[];
  importedModels: BlockDecl[];
  sources: SourceFile[];
  diagnostics: Diagnostic[];
}

function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
}

/** Where a spec's files are read from: by absolute path, as on the disk. */
export interface SpecFiles {
  isFile(abs: string): boolean;
  read(abs: string): { text?: string; diagnostic?: Diagnostic };
}

export const DISK_FILES: SpecFiles = { isFile: (p) => existsSync(p) && statSync(p).isFile(), read: (p) => readSpecFile(p) };

function resolveImport(from: string, spec: string, files: SpecFiles): string | undefined {
  const names = spec.endsWith(".unet") ? [spec] : [`${spec}.unet`, spec];
  for (const base of [dirname(from), MODELS_DIR]) {
    for (const n of names) {
      const p = resolve(base, n);
      if (files.isFile(p)) return p;
    }
  }
  return undefined;
}

/** Reads a file as text; a missing, unreadable or binary file is a diagnostic, not an exception. */
export function readSpecFile(path: string): { text?: string; diagnostic?: Diagnostic } {
  try {
    if (!existsSync(path)) return { diagnostic: diag("E0900", `no such file: ${path}`, { help: "check the path; spec files end in .unet" }) };
    if (statSync(path).isDirectory()) return { diagnostic: diag("E0900", `${path} is a folder, not a spec file`) };
    return { text: readFileSync(path, "utf8") };
  } catch (err) {
    return { diagnostic: diag("E0900", `cannot read ${path}: ${(err as Error).message}`) };
  }
}

export function loadSpec(rootPath: string, rootText?: string, files: SpecFiles = DISK_FILES): LoadedSpec {
  const diagnostics: Diagnostic[] = [];
  const sources: SourceFile[] = [];
  const decls = new Map<string, BlockDecl>();
  const rootModels: BlockDecl[] = [];
  const importedModels: BlockDecl[] = [];
  const loaded = new Set<string>();
  const absRoot = resolve(rootPath);

  const visit = (abs: string, text: string, isRoot: boolean, stack: string[]): void => {
    loaded.add(abs);
    const parsed = parseSource(displayPath(abs), text);
    sources.push(parsed.source);
    diagnostics.push(...parsed.diagnostics);
    for (const imp of parsed.ast.imports) {
      const target = resolveImport(abs, imp.path, files);
      if (!target) {
        diagnostics.push(diag("E0005", `cannot find \`${imp.path}\` to import`, { span: imp.span, help: `looked next to this file and in ${displayPath(MODELS_DIR)}` }));
        continue;
      }
      if (target === abs) {
        diagnostics.push(diag("E0005", "this file imports itself", { span: imp.span, help: "remove the import" }));
        continue;
      }
      if (stack.includes(target)) {
        diagnostics.push(diag("E0005", `\`${imp.path}\` imports this file back (an import cycle)`, { span: imp.span }));
        continue;
      }
      if (loaded.has(target)) continue;
      const r = files.read(target);
      if (r.text === undefined) {
        diagnostics.push(diag("E0005", `cannot read \`${imp.path}\`: ${r.diagnostic?.message ?? "unknown error"}`, { span: imp.span }));
        continue;
      }
      visit(target, r.text, false, [...stack, abs]);
    }
    // Imports are visited first, so this file's definitions shadow theirs; the root shadows all.
    const local = new Map<string, BlockDecl>();
    for (const d of parsed.ast.decls) {
      const dup = local.get(d.name.name);
      if (dup) {
        diagnostics.push(diag("E0105", `\`${d.name.name}\` is defined twice in this file`, { span: d.name.span, secondary: [{ span: dup.name.span, message: "first defined here" }] }));
        continue;
      }
      local.set(d.name.name, d);
      if (isRoot || !decls.has(d.name.name)) decls.set(d.name.name, d);
      if (d.kind === "model") (isRoot ? rootModels : importedModels).push(d);
    }
  };

  if (rootText !== undefined) visit(absRoot, rootText, true, []);
  else {
    const r = readSpecFile(rootPath);
    if (r.text === undefined) return { program: { decls }, rootModels, importedModels, sources, diagnostics: [r.diagnostic!] };
    visit(absRoot, r.text, true, []);
  }
  return { program: { decls }, rootModels, importedModels, sources, diagnostics };
}

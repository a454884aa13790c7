// `unetc compile SPEC|RUN --emit ts --out DIR`: the model as a typed TypeScript module
// (compiler/emit/ts). From a run folder or checkpoint the model is the one it trained (its stored
// spec and overrides), with its class names and noise schedule. ts-morph is loaded only here, so
// the other commands start without it.
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { TsModule } from "../../compiler/emit/ts/module.js";
import { UsageError } from "../../compiler/diagnostics/user-error.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import type { SpecOptions } from "../options.js";
import { checkOrReport, print } from "../report.js";
import { checkpointModel } from "./checkpoint-model.js";

export interface CompileTsFlags extends SpecOptions {
  readonly out?: string;
  readonly batch?: number;
  readonly classNames?: string;
  readonly hardware?: boolean;
  readonly runtime?: string;
}

/** Images per run of a generated module when --batch is not given. */
export const DEFAULT_TS_BATCH = 16;

const isCheckpoint = (path: string) => path.endsWith(".safetensors") || (existsSync(path) && statSync(path).isDirectory());

interface Source {
  readonly model: ModelGraph;
  readonly classNames?: readonly string[];
  readonly schedule?: "cosine" | "karras";
  readonly origin: { spec: string; set: readonly string[]; checkpoint?: string };
}

async function source(input: string, flags: CompileTsFlags): Promise<Source | undefined> {
  if (!isCheckpoint(input)) {
    const { model } = checkOrReport(input, flags);
    return model && { model, origin: { spec: input, set: flags.set } };
  }
  if (flags.set.length) throw new UsageError(`--set does not apply to a checkpoint: ${input} holds the spec and overrides it was trained with`);
  const ckpt = await readCheckpoint(input);
  const model = checkpointModel(ckpt, flags);
  const labelled = model.inputs.some((i) => i.kind === "label");
  return {
    model,
    ...(labelled && ckpt.meta.classNames.length ? { classNames: ckpt.meta.classNames } : {}),
    schedule: ckpt.meta.config.schedule,
    origin: { spec: ckpt.meta.spec.path, set: ckpt.meta.spec.overrides, checkpoint: input },
  };
}

/** Writes the module; returns its path and contents, or undefined when the spec does not check (diagnostics printed). */
export async function writeTsModule(input: string, flags: CompileTsFlags): Promise<{ path: string; module: TsModule } | undefined> {
  if (!flags.out) throw new UsageError("--emit ts writes a module file: give the folder with --out DIR");
  const src = await source(input, flags);
  if (!src) return undefined;
  const classNames = flags.classNames !== undefined ? flags.classNames.split(",").map((s) => s.trim()) : src.classNames;
  const { emitTsModule } = await import("../../compiler/emit/ts/module.js");
  const m = emitTsModule(src.model, { batch: flags.batch ?? DEFAULT_TS_BATCH, classNames, schedule: src.schedule, hardware: flags.hardware, runtimeImport: flags.runtime, origin: src.origin });
  mkdirSync(flags.out, { recursive: true });
  const path = join(flags.out, m.fileName);
  writeFileSync(path, m.text);
  return { path, module: m };
}

export async function runCompileTs(input: string, flags: CompileTsFlags): Promise<number> {
  const written = await writeTsModule(input, flags);
  if (!written) return 1;
  const { path, module: m } = written;
  const bytes = m.program.buffers.reduce((a, b) => a + b, 0);
  print(
    `wrote ${path}: ${m.model.name} for ${m.model.batch} images per run, ${m.program.kernels.length} kernels (${m.program.shaders.length} distinct shaders), ` +
      `${m.program.buffers.length} buffers of ${(bytes / 1024).toFixed(1)} KiB; at run time it imports ${flags.runtime ?? "unetc/runtime"}: createModel(device, weights)`,
  );
  return 0;
}

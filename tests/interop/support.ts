// Shared pieces of the interop tests: the CLI, Debian's PyTorch (skipped with a reason when absent,
// unless UNETC_REQUIRE_TORCH=1), and a unetc checkpoint with every kind of tensor in it.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { numel } from "../../compiler/check/model-graph.js";
import { emaTargets } from "../../compiler/compile.js";
import { adamStateName, emaName } from "../../compiler/ir/step-contract.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import type { TensorToWrite } from "../../runtime/io/safetensors.js";
import { toStateDict } from "../../runtime/io/state-dict.js";
import { CHECKPOINT_FILE, writeCheckpoint } from "../../runtime/train/checkpoint.js";
import { specInfo } from "../../runtime/train/from-checkpoint.js";
import { oneCycleState } from "../../runtime/train/onecycle.js";
import { config } from "../train/support.js";

export function unetc(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(r.stderr).not.toMatch(/\n\s+at .*\(/); // never a stack trace
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---- PyTorch ---------------------------------------------------------------------------

export const PYTHON = "/usr/bin/python3"; // Debian's, with python3-torch (a pyenv python on PATH has no torch)
const REQUIRE = process.env.UNETC_REQUIRE_TORCH === "1";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0;

/** Whether the torch tests run; when they cannot and must (UNETC_REQUIRE_TORCH=1), they run and fail saying why. */
export const torchTests = { run: hasTorch || REQUIRE, reason: hasTorch ? "" : " (skipped: no python3-torch at /usr/bin/python3; apt-get install python3-torch)" };

export interface TorchJob {
  readonly config: Record<string, unknown>;
  readonly in: string;
  readonly out: string;
  readonly dtype?: "F32" | "F16" | "BF16";
  readonly drop_counters?: boolean;
}

/** Runs tests/interop/torch_state_dict.py on the jobs in one process; each job's result line. */
export function runTorch(jobs: readonly TorchJob[]): { tensors: number; counters: number }[] {
  if (!hasTorch) throw new Error(`UNETC_REQUIRE_TORCH=1 but ${PYTHON} cannot import torch and numpy: apt-get install python3-torch python3-numpy`);
  const r = spawnSync(PYTHON, ["tests/interop/torch_state_dict.py", JSON.stringify(jobs)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`torch_state_dict.py failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { tensors: number; counters: number });
}

// ---- a checkpoint ------------------------------------------------------------------------

/** The course's small attention + class-conditional vector config, and the spec that is the same model. */
export const SMALL_CONFIG = { kind: "emb", in_channels: 1, out_channels: 1, nfs: [8, 16], num_layers: 2, attn_chans: 4, attn_start: 1, n_classes: 3 };
export const SMALL_SPEC = "models/lesson/emb_unet.unet";
export const SMALL_SET = ["nfs=[8,16]", "num_layers=2", "size=8", "attn_chans=4", "attn_start=1", "classes=3"];

export function checkedModel(spec: string, set: readonly string[]) {
  const r = checkSpec(spec, { set: [...set] });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return { model: r.graph, result: r };
}

/**
 * A checkpoint as training writes one, with values that make a round trip's mistakes show: random
 * floats (a negative zero and a subnormal among them), counters that are not 0, Adam and EMA state.
 */
export async function writeTestCheckpoint(dir: string, spec = SMALL_SPEC, set: readonly string[] = SMALL_SET, seed = 1): Promise<{ path: string; model: ModelGraph; raw: Map<string, TensorToWrite> }> {
  const { model, result } = checkedModel(spec, set);
  const rng = new Rng(seed);
  const random = (shape: readonly number[]) => ({ shape: [...shape], data: Float32Array.from({ length: numel(shape) }, () => rng.normal() * 0.3) });
  const weights = new Map(model.parameters.map((p, i) => [p.name, p.dtype === "f32" ? random(p.shape) : { shape: [...p.shape], data: Float32Array.of(5 + i) }]));
  for (const [name, t] of weights) if (name.endsWith("running_var")) t.data.forEach((v, i) => (t.data[i] = 0.5 + Math.abs(v))); // a variance is positive
  const first = weights.get(model.parameters[0].name)!.data;
  first[0] = -0;
  first[1] = 1e-40;
  const raw = toStateDict(model, weights);
  const tensors = new Map<string, TensorToWrite>(raw);
  for (const p of model.parameters) {
    if (p.kind !== "param") continue;
    tensors.set(adamStateName("m", p.name), random(p.shape));
    tensors.set(adamStateName("v", p.name), random(p.shape));
  }
  for (const name of emaTargets(model)) tensors.set(emaName(name), random(weights.get(name)!.shape));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, CHECKPOINT_FILE);
  await writeCheckpoint(path, tensors, {
    spec: specInfo(spec, result, model, set),
    config: config({ ema: 0.9, data: "fashion-mnist", epochs: 1 }),
    position: { step: 12, epoch: 1, batchInEpoch: 0, rngState: 1, epochLossSum: 0, epochLossSteps: 0 },
    schedule: oneCycleState({ maxLr: 1e-2, totalSteps: 12 }),
    classNames: ["a", "b", "c"],
    modelConfig: model.config,
    device: "reference",
  });
  return { path, model, raw };
}

/** The bits of a float array (so -0, NaN payloads and subnormals compare exactly). */
export const bits = (a: ArrayLike<number>): Uint32Array => new Uint32Array(Float32Array.from(a).buffer);

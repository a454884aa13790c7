// `unetc export --to pytorch` against unetc's reference interpreter, both in float64, for every
// model in models/ (shrunk where CPU time asks) and a few variants of the lesson's knobs: the
// module's state_dict names and shapes are the spec's parameters, and its eval forward, train
// forward, loss, gradients, BatchNorm buffers after the train forward and one AdamW step equal
// the compiled graph's.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { modelTask, numel, type ModelGraph } from "../../compiler/check/model-graph.js";
import { buildGraph } from "../../compiler/compile.js";
import { emitPytorchModel } from "../../compiler/emit/pytorch/model-py.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { isSource } from "../../compiler/ir/types.js";
import { writePytorchExport } from "../../runtime/export/pytorch.js";
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from "../../runtime/io/safetensors.js";
import { runGraph, type Feed } from "../../runtime/reference/index.js";
import { Rng } from "../../runtime/diffusion/rng.js";
import { initParameters } from "../../runtime/session/init.js";
import { specInfo } from "../../runtime/train/from-checkpoint.js";
import { describeWithTorch, python } from "./torch-env.js";
import { relErr } from "../support/rel-err.js";

/** Every model file in models/, with overrides that keep a float64 step on two cores quick. */
const MODELS: Record<string, string[]> = {
  "models/diffusers/unet2d.unet": ["block_out_channels=[8,16,16]", "down_attention=[false,true,true]", "sample_size=8", "classes=3"],
  // diffusers' default topology (four levels, 32 groups, 3 channels) at 32 channels and 8x8.
  "models/diffusers/unet2d_default.unet": ["block_out_channels=[32,32,32,32]", "sample_size=8"],
  "models/lesson/cond_attn_unet.unet": ["nfs=[8,16]", "size=8"],
  "models/lesson/cond_unet.unet": ["nfs=[8,16]", "size=8"],
  "models/lesson/cpu_unet.unet": ["size=8"],
  "models/lesson/emb_unet.unet": ["nfs=[8,16]", "size=8"],
  "models/lesson/emb_unet_noattn.unet": ["nfs=[8,16]", "size=8"],
  "models/lesson/plain_unet.unet": ["nfs=[4,8]", "size=8"],
  "models/lesson/transformer_mid_unet.unet": ["nfs=[8,16]", "size=8"],
  "models/metrics/fmnist_classifier.unet": ["nfs=[8,16]", "size=16"],
};

/** The lesson's ablation knobs, which the model files above leave at their defaults. */
const VARIANTS: Array<{ spec: string; set: string[] }> = [
  // added skips with 1x1 projections, additive conditioning at the input only, GroupNorm, odd widths (sinusoidal padding)
  { spec: "models/lesson/emb_unet.unet", set: ["nfs=[5,10]", "size=8", "skips=add", "inject=add", "emb_at=input", "norm=group", "groups=5", "attn_chans=5"] },
  // attention by resolution, no saved downsamples, a transformer mid block, classes
  { spec: "models/lesson/emb_unet.unet", set: ["nfs=[8,16,16]", "size=8", "attn_res=4", "attn_chans=4", "save_down=false", "mid=transformer", "classes=3"] },
];

const BATCH = 2;
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weight_decay: 0.01 };

interface Case {
  readonly name: string;
  readonly model: ModelGraph;
  readonly dir: string;
  readonly weights: Map<string, Tensor>;
  readonly inputs: Map<string, Tensor>;
  readonly target: Tensor;
}

function modelFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "std" ? [] : modelFiles(p); // std/: blocks, no model
    return f.endsWith(".unet") ? [p] : [];
  });
}

const normal = (rng: Rng, n: number, scale = 1, shift = 0): Float32Array => Float32Array.from({ length: n }, () => shift + scale * rng.normal());

/** The layers' own initialisation, then norms and learned tensors moved off their defaults so eval mode and affines matter. */
function randomWeights(model: ModelGraph, seed: number): Map<string, Tensor> {
  const w = initParameters(model, seed);
  const rng = new Rng(seed + 1);
  const set = (name: string, data: Float32Array) => w.set(name, { shape: w.get(name)!.shape, data });
  for (const n of model.nodes) {
    const size = (local: string) => numel(w.get(`${n.path}.${local}`)!.shape);
    if (n.op === "batchnorm" || n.op === "groupnorm" || n.op === "layernorm") {
      set(`${n.path}.weight`, normal(rng, size("weight"), 0.25, 1));
      set(`${n.path}.bias`, normal(rng, size("bias"), 0.1));
    }
    if (n.op === "batchnorm") {
      set(`${n.path}.running_mean`, normal(rng, size("running_mean"), 0.2));
      set(`${n.path}.running_var`, Float32Array.from({ length: size("running_var") }, () => 0.5 + 1.5 * rng.uniform()));
    }
    if (n.op === "param") set(n.params[0].name, normal(rng, numel(n.params[0].shape), 0.5));
  }
  return w;
}

function randomInputs(model: ModelGraph, rng: Rng): { inputs: Map<string, Tensor>; target: Tensor } {
  const inputs = new Map<string, Tensor>();
  for (const i of model.inputs) {
    if (i.kind === "image") inputs.set(i.name, { shape: [BATCH, ...i.shape], data: normal(rng, BATCH * numel(i.shape)) });
    else if (i.kind === "timestep") inputs.set(i.name, { shape: [BATCH], data: Float32Array.from({ length: BATCH }, () => 0.999 * rng.uniform()) });
    else inputs.set(i.name, { shape: [BATCH], data: Int32Array.from({ length: BATCH }, () => rng.int(i.classes!)) });
  }
  const out = model.nodes[model.output].shape;
  if (modelTask(model) === "classify") {
    const labels = Int32Array.from({ length: BATCH }, () => rng.int(out[0]));
    inputs.set("labels", { shape: [BATCH], data: labels });
    const onehot = new Float32Array(BATCH * out[0]);
    labels.forEach((c, b) => (onehot[b * out[0] + c] = 1));
    return { inputs, target: { shape: [BATCH, ...out], data: onehot } };
  }
  const target = { shape: [BATCH, ...out], data: normal(rng, BATCH * numel(out)) };
  inputs.set("target", target);
  return { inputs, target };
}

const asWrite = (t: Tensor, dtype?: "I64"): TensorToWrite => ({ shape: t.shape, data: t.data as Float32Array | Int32Array, dtype });

/** unetc's reference interpreter in float64: eval output, then the AdamW step's outputs. */
function reference(c: Case): Record<string, Tensor> {
  const feeds: Record<string, Feed> = {};
  for (const [k, v] of [...c.weights, ...c.inputs]) feeds[k] = v;
  const evalGraph = buildGraph(c.model, { batch: BATCH, mode: "eval" });
  const evalOut = runGraph(evalGraph, feeds, { precision: "f64" }).outputs;
  const step = buildGraph(c.model, { batch: BATCH, mode: "step", optimizer: "adamw" });
  const stepFeeds: Record<string, Feed> = { ...feeds, target: c.target, lr: ADAMW.lr, beta1: ADAMW.beta1, beta2: ADAMW.beta2, eps: ADAMW.eps, weight_decay: ADAMW.weight_decay, step: 1 };
  for (const n of step.nodes) if (isSource(n) && n.name.startsWith("adam.")) stepFeeds[n.name] = { shape: [...n.shape], data: new Float64Array(numel(n.shape)) };
  const out = runGraph(step, stepFeeds, { precision: "f64" }).outputs;
  return { ...out, "eval.output": evalOut.output, "train.output": out.output };
}

// float64 on both sides: ~1e-15 typically, up to ~3e-10 for bias gradients that are sums with cancellation.
const TOLERANCE = 1e-8;
// Made in beforeAll: a skipped suite leaves nothing behind.
const root = join(tmpdir(), `unetc-export-eq-${process.pid}-${Date.now()}`);
const cases: Case[] = [];

describeWithTorch("exported PyTorch modules equal the reference interpreter (float64)", () => {
  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    const specs = [...Object.entries(MODELS).map(([spec, set]) => ({ spec, set })), ...VARIANTS];
    const manifest: unknown[] = [];
    for (const [k, { spec, set }] of specs.entries()) {
      const r = checkSpec(spec, { set });
      if (!r.graph) throw new Error(`${spec}: ${renderDiagnostics(r.diagnostics)}`);
      const model = r.graph;
      const dir = join(root, `${k}-${model.name}`);
      await writePytorchExport({ out: dir, model, modelPy: emitPytorchModel(model, { specPath: spec, overrides: set }), spec: specInfo(spec, r, model, set) });
      const weights = randomWeights(model, 100 + k);
      const { inputs, target } = randomInputs(model, new Rng(200 + k));
      const counters = new Set(model.parameters.filter((p) => p.dtype === "i64").map((p) => p.name));
      await writeSafetensorsFile(join(dir, "weights.safetensors"), new Map([...weights].map(([n, t]) => [n, counters.has(n) ? asWrite({ shape: t.shape, data: Int32Array.from(t.data) }, "I64") : asWrite(t)])));
      await writeSafetensorsFile(join(dir, "inputs.safetensors"), new Map([...inputs].map(([n, t]) => [n, asWrite(t)])));
      cases.push({ name: `${spec} ${set.join(" ")}`, model, dir, weights, inputs, target });
      manifest.push({ dir, weights: join(dir, "weights.safetensors"), inputs: join(dir, "inputs.safetensors"), out: join(dir, "torch.safetensors"), task: modelTask(model), adamw: { lr: ADAMW.lr, betas: [ADAMW.beta1, ADAMW.beta2], eps: ADAMW.eps, weight_decay: ADAMW.weight_decay } });
    }
    writeFileSync(join(root, "manifest.json"), JSON.stringify(manifest, null, 1));
    python(["tests/export/torch_check.py", join(root, "manifest.json")], { timeout: 180_000 });
  }, 240_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("covers every model file in models/", () => {
    expect(modelFiles("models").sort()).toEqual(Object.keys(MODELS).sort());
  });

  it.each([...Object.entries(MODELS).map(([spec, set]) => `${spec} ${set.join(" ")}`), ...VARIANTS.map((v) => `${v.spec} ${v.set.join(" ")}`)])("%s", async (name) => {
    const c = cases.find((x) => x.name === name)!;
    const { tensors, metadata } = await readSafetensorsFile(join(c.dir, "torch.safetensors"));
    // state_dict: the spec's names, in the spec's order up to PyTorch's own-parameters-first rule
    const order = JSON.parse(metadata.state_dict) as string[];
    expect([...order].sort()).toEqual(c.model.parameters.map((p) => p.name).sort());
    const ref = reference(c);
    const errors: Record<string, number> = {};
    const check = (key: string, got: Tensor | undefined) => {
      const want = tensors.get(key);
      if (!want || !got) throw new Error(`${key}: ${want ? "not in unetc's outputs" : "not in PyTorch's outputs"}`);
      errors[key] = relErr(got, want, 1e-6);
    };
    check("eval.output", ref["eval.output"]);
    check("train.output", ref["train.output"]);
    check("loss", ref.loss);
    for (const p of c.model.parameters) {
      if (p.kind === "param") check(`grad.${p.name}`, ref[`grad.${p.name}`]);
      check(`new.${p.name}`, ref[`new.${p.name}`] ?? c.weights.get(p.name));
    }
    const worst = Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 5);
    if (process.env.DEBUG_EXPORT) console.log(name, worst);
    expect(worst[0][1], `largest relative differences: ${worst.map(([k, e]) => `${k} ${e.toExponential(2)}`).join(", ")}`).toBeLessThan(TOLERANCE);
  });
});

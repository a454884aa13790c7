// ONNX export: the inference graph of every model family in models/ (the lesson's UNet with
// attention and classes, its transformer mid block, diffusers' UNet2DModel with GroupNorm, the FID
// classifier with two outputs), run by onnxruntime (onnxruntime-node, CPU), equals unetc's
// reference interpreter on the same weights and inputs; `unetc export RUN --to onnx` writes a file
// onnxruntime runs with the run's weights.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { buildGraph } from "../../compiler/compile.js";
import { modelToOnnx } from "../../compiler/emit/onnx/onnx.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { runGraph } from "../../runtime/reference/index.js";
import { weightsFromCheckpoint } from "../../runtime/sample/model-weights.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { checkedModel, SMALL_SET, SMALL_SPEC, unetc, writeTestCheckpoint } from "./support.js";

type Ort = typeof import("onnxruntime-node");
const ort: Ort | undefined = await import("onnxruntime-node").catch(() => undefined);
const reason = ort ? "" : " (skipped: onnxruntime-node is not installed; npm ci installs it)";
const tmp = mkdtempSync(join(tmpdir(), "unetc-onnx-"));

const B = 2;

/** Inputs for a batch of B: x a smooth pattern, t spread over (0, 1), labels cycling. */
function inputs(model: ModelGraph): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const i of model.inputs) {
    const shape = [B, ...i.shape];
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[i.name] = i.kind === "label" ? { shape, data: Int32Array.from({ length: n }, (_, k) => k % (i.classes ?? 1)) } : { shape, data: Float32Array.from({ length: n }, (_, k) => Math.sin(0.37 * k + 0.1)) };
  }
  return feeds;
}

/** onnxruntime's outputs of the file for these inputs. */
async function runOnnx(ort: Ort, bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const given: Record<string, InstanceType<Ort["Tensor"]>> = {};
  for (const [name, t] of Object.entries(feeds)) given[name] = t.data instanceof Int32Array ? new ort.Tensor("int32", t.data, [...t.shape]) : new ort.Tensor("float32", Float32Array.from(t.data), [...t.shape]);
  const out = await session.run(given);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

function expectClose(got: Float32Array, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  expect(diff / scale, what).toBeLessThan(1e-5);
}

const FAMILIES: [string, string[]][] = [
  [SMALL_SPEC, SMALL_SET],
  ["models/lesson/transformer_mid_unet.unet", ["nfs=[8,16]", "num_layers=1", "size=8"]],
  ["models/diffusers/unet2d.unet", ["block_out_channels=[8,16]", "down_attention=[false,true]", "layers_per_block=1", "attention_head_dim=4", "norm_num_groups=4", "sample_size=8", "classes=3"]],
  ["models/metrics/fmnist_classifier.unet", []],
];

describe(`ONNX export${reason}`, () => {
  it.runIf(ort !== undefined).each(FAMILIES)("%s: onnxruntime equals the reference interpreter", async (spec, set) => {
    const { model } = checkedModel(spec, set);
    const dir = join(tmp, model.name);
    const { raw } = await writeTestCheckpoint(dir, spec, set);
    const weights = new Map([...raw].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    const feeds = inputs(model);
    const got = await runOnnx(ort!, modelToOnnx(model, weights, { batch: B }), feeds);
    const graph = buildGraph(model, { batch: B, mode: "eval" }); // the fused graph unetc runs
    const want = runGraph(graph, { ...Object.fromEntries(weights), ...feeds }).outputs;
    expect(Object.keys(got).sort()).toEqual(graph.outputs.map((o) => o.name).sort());
    for (const o of graph.outputs) expectClose(got[o.name], want[o.name].data, `${model.name} ${o.name}`);
  });

  it.runIf(ort !== undefined)("unetc export RUN --to onnx writes the run's model", async () => {
    const run = join(tmp, "run");
    await writeTestCheckpoint(run);
    const out = join(tmp, "m.onnx");
    const r = unetc("export", run, "--to", "onnx", "--out", out, "--batch", String(B));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*m\.onnx: emb_unet at step 12 \(raw weights\), ONNX opset 17, inputs x \[2, 1, 8, 8\], t \[2\], c \[2\]/);
    const ckpt = await readCheckpoint(run);
    const model = checkedModel(SMALL_SPEC, SMALL_SET).model;
    const feeds = inputs(model);
    const got = await runOnnx(ort!, readFileSync(out), feeds);
    const want = runGraph(buildGraph(model, { batch: B, mode: "eval" }), { ...Object.fromEntries(weightsFromCheckpoint(model, ckpt, false).weights), ...feeds }).outputs;
    expectClose(got.output, want.output.data, "output");
  });
});

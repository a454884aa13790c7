// The compiled lesson models equal PyTorch on the reference interpreter: forward in eval and
// train mode, BatchNorm running statistics, loss, every gradient and one Adam step, against the
// vectors of tests/reference/make_vectors.py (regenerate them there if this reports a stale file).
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { Graph, SourceNode } from "../../compiler/ir/types.js";
import { isSource } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import { lowerModel } from "../../compiler/passes/lower/lower.js";
import { buildTrainStep } from "../../compiler/passes/step/index.js";
import { readSafetensorsFile, type StoredTensor } from "../../runtime/io/safetensors.js";
import { runGraph, type Feed } from "../../runtime/reference/index.js";
import { specFor, type RefConfig } from "../models/reference-configs.js";
import { relErr } from "../support/rel-err.js";

const DIR = "tests/reference/vectors";
const files = readdirSync(DIR).filter((f) => f.endsWith(".safetensors"));

function feedsFor(graph: Graph, stored: Map<string, StoredTensor>, extra: Record<string, Feed> = {}): Record<string, Feed> {
  const feeds: Record<string, Feed> = { ...extra };
  for (const n of graph.nodes) {
    if (!isSource(n) || n.name in feeds) continue;
    const s = stored.get((n as SourceNode).name);
    if (!s) throw new Error(`vector file has no tensor '${n.name}'`);
    const data = n.dtype === "i32" ? Int32Array.from(s.data as ArrayLike<number>) : Float32Array.from(s.data as ArrayLike<number>);
    feeds[n.name] = { shape: [...s.shape], data };
  }
  return feeds;
}

describe.each(files)("%s equals PyTorch", (file) => {
  it("forward (eval, train), running stats, loss, gradients and one Adam step", async () => {
    const { tensors, metadata } = await readSafetensorsFile(`${DIR}/${file}`);
    expect(metadata.format_version, "stale vectors: re-run tests/reference/make_vectors.py").toBe("1");
    const config = JSON.parse(metadata.config) as RefConfig;
    const { file: spec, set } = specFor(config);
    const checked = checkSpec(spec, { set });
    if (!checked.graph) throw new Error(renderDiagnostics(checked.diagnostics));
    const batch = config.batch ?? 4;

    const evalGraph = lowerModel(checked.graph, { batch, mode: "eval" });
    verifyGraph(evalGraph, "lower(eval)");
    const evalOut = runGraph(evalGraph, feedsFor(evalGraph, tensors)).outputs;
    expect(relErr(evalOut.output, tensors.get("eval.output")!, 1e-12)).toBeLessThan(1e-5);

    const trainGraph = lowerModel(checked.graph, { batch, mode: "train" });
    verifyGraph(trainGraph, "lower(train)");
    const step = buildTrainStep(trainGraph, { optimizer: "adam" });
    verifyGraph(step, "buildTrainStep");
    const zeros: Record<string, Feed> = {};
    for (const n of step.nodes) if (isSource(n) && n.name.startsWith("adam.")) zeros[n.name] = { shape: [...n.shape], data: new Float32Array(n.shape.reduce((a, b) => a * b, 1)) };
    const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weight_decay: 0, step: 1 };
    const out = runGraph(step, feedsFor(step, tensors, { ...zeros, ...hyper })).outputs;

    expect(relErr(out.output, tensors.get("train.output")!, 1e-12)).toBeLessThan(1e-5);
    expect(relErr(out.loss, tensors.get("train.loss")!, 1e-12)).toBeLessThan(1e-5);
    const worst = { grad: 0, step: 0, buffer: 0 };
    for (const [name, ref] of tensors) {
      if (name.startsWith("grad.")) {
        const e = relErr(out[name], ref, 1e-3);
        if (e > 1e-4 && process.env.DEBUG_VECTORS) console.log(name, e, Math.max(...Array.from(ref.data as ArrayLike<number>, Math.abs)));
        worst.grad = Math.max(worst.grad, e);
      }
      else if (name.startsWith("step.")) worst.step = Math.max(worst.step, relErr(out[`new.${name.slice(5)}`], ref, 1e-12));
      else if (name.startsWith("train.") && name !== "train.output" && name !== "train.loss" && name !== "train.emb") {
        worst.buffer = Math.max(worst.buffer, relErr(out[`new.${name.slice(6)}`], ref, 1e-12));
      }
    }
    expect(worst.grad).toBeLessThan(1e-4);
    expect(worst.step).toBeLessThan(1e-4);
    expect(worst.buffer).toBeLessThan(1e-5);
  });
});

// The lesson's specs yield exactly the parameter names, shapes and counts of the course's PyTorch
// models (tests/reference/state_dicts.json, written by tests/reference/dump_state_dicts.py).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { modelTotals } from "../../compiler/check/model-graph.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { specFor, type RefConfig } from "./reference-configs.js";

interface RefModel {
  config: RefConfig;
  num_parameters: number;
  entries: Array<[string, number[], "param" | "buffer"]>;
}

const reference = JSON.parse(readFileSync("tests/reference/state_dicts.json", "utf8")) as Record<string, RefModel>;

function check(file: string, set: string[] = []) {
  const r = checkSpec(file, { set });
  if (!r.graph) throw new Error(renderDiagnostics(r.diagnostics));
  expect(r.diagnostics).toEqual([]);
  return r.graph;
}

describe("parameter names and counts equal the course's PyTorch models", () => {
  it.each(Object.entries(reference))("%s", (_name, ref) => {
    const { file, set } = specFor(ref.config);
    const g = check(file, set);
    expect(modelTotals(g).parameters).toBe(ref.num_parameters);
    const ours = g.parameters.map((p) => `${p.name} ${JSON.stringify(p.shape)} ${p.kind}`).sort();
    const theirs = ref.entries.map(([n, s, k]) => `${n} ${JSON.stringify(s)} ${k}`).sort();
    expect(ours).toEqual(theirs);
  });
});

describe("each lesson model file checks with the course's parameter count", () => {
  it.each([
    ["models/lesson/emb_unet_noattn.unet", 13_021_792],
    ["models/lesson/emb_unet.unet", 14_755_552],
    ["models/lesson/cond_unet.unet", 13_023_072],
    ["models/lesson/cond_attn_unet.unet", 14_756_832],
    ["models/lesson/plain_unet.unet", reference.plain.num_parameters],
  ])("%s has %i parameters", (file, count) => {
    expect(modelTotals(check(file)).parameters).toBe(count);
  });

  it("the named parameters of the issue are there", () => {
    const names = new Set(check("models/lesson/cond_attn_unet.unet").parameters.map((p) => p.name));
    for (const n of [
      "conv_in.weight",
      "emb_mlp.0.0.weight",
      "emb_mlp.0.0.running_var",
      "downs.1.resnets.0.conv1.2.weight",
      "downs.0.down.weight",
      "ups.0.resnets.2.idconv.weight",
      "downs.1.resnets.0.attn.qkv.weight",
      "mid_block.emb_proj.weight",
      "conv_out.2.weight",
      "cond_emb.weight",
    ]) {
      expect(names.has(n), n).toBe(true);
    }
  });
});

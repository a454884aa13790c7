// Fresh parameters and buffers for a checked model, seeded: PyTorch's default initialisation
// for each layer (uniform in +-1/sqrt(fan_in) for conv and linear, ones/zeros for norms, N(0,1)
// for embeddings), so a model trained here starts where the course's does.
import type { ModelGraph, ParamSpec } from "../../compiler/check/model-graph.js";
import { numel } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { Rng } from "./rng.js";

export function initTensor(p: ParamSpec, rng: Rng): Tensor {
  const n = numel(p.shape);
  const data = new Float32Array(n);
  switch (p.init.kind) {
    case "zeros":
      break;
    case "ones":
      data.fill(1);
      break;
    case "normal":
      for (let i = 0; i < n; i++) data[i] = rng.normal() * p.init.std;
      break;
    case "uniform_fan_in": {
      const bound = 1 / Math.sqrt(p.init.fanIn);
      for (let i = 0; i < n; i++) data[i] = (rng.uniform() * 2 - 1) * bound;
      break;
    }
  }
  return { shape: [...p.shape], data };
}

/** Every parameter and buffer of the model, by name. */
export function initParameters(model: ModelGraph, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  return new Map(model.parameters.map((p) => [p.name, initTensor(p, rng)]));
}

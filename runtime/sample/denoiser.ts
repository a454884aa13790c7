// A Denoiser (runtime/diffusion's model interface) over the model's eval-mode graph compiled for a
// fixed batch: a call with n images runs ceil(n / batch) times, the last chunk padded with zeros
// (eval mode uses BatchNorm's running statistics, so padding cannot change the other samples).
// The noise level is given per sample ([n]); the samplers broadcast one t to all of them.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { OUTPUT } from "../../compiler/ir/step-contract.js";
import type { Denoiser } from "../diffusion/samplers.js";
import { openRunner, type DeviceKind } from "../session/runner.js";

export interface BatchedDenoiser {
  readonly denoise: Denoiser;
  /** The compiled batch. */
  readonly batch: number;
  /** Model evaluations so far (graph runs). */
  readonly runs: () => number;
  destroy(): void;
}

/**
 * Compiles the model in eval mode for `batch` images on `device` and loads `weights` (every
 * parameter and buffer of the model, by name).
 */
export async function createDenoiser(model: ModelGraph, weights: ReadonlyMap<string, Tensor>, o: { device: DeviceKind; batch: number }): Promise<BatchedDenoiser> {
  const B = o.batch;
  const { runner } = await openRunner(model, { batch: B, mode: "eval" }, o.device);
  for (const p of model.parameters) {
    const t = weights.get(p.name);
    if (!t) throw new Error(`internal: no weights for '${p.name}'`);
    runner.write(p.name, t);
  }
  const img = model.inputs.find((i) => i.kind === "image");
  if (!img) throw new Error(`model ${model.name} has no image input`);
  const tIn = model.inputs.find((i) => i.kind === "timestep");
  const cIn = model.inputs.find((i) => i.kind === "label");
  const per = img.shape.reduce((a, b) => a * b, 1);
  const outPer = model.nodes[model.output].shape.reduce((a, b) => a * b, 1);
  if (outPer !== per) throw new Error(`model ${model.name}: its output (${outPer} values per image) does not match its image input (${per})`);
  const xb = new Float32Array(B * per);
  const tb = new Float32Array(B);
  const cb = new Int32Array(B);
  let runs = 0;

  const denoise: Denoiser = async (x, t, c) => {
    const n = t.length;
    if (x.length !== n * per) throw new RangeError(`denoiser: ${x.length} values for ${n} images of ${per}`);
    if (cIn && !c) throw new Error(`model ${model.name} is class-conditional: give class labels`);
    const out = new Float32Array(n * per);
    for (let start = 0; start < n; start += B) {
      const m = Math.min(B, n - start);
      xb.fill(0);
      xb.set(x.subarray(start * per, (start + m) * per));
      tb.fill(0);
      tb.set(t.subarray(start, start + m));
      runner.write(img.name, { shape: [B, ...img.shape], data: xb });
      if (tIn) runner.write(tIn.name, { shape: [B], data: tb });
      if (cIn && c) {
        cb.fill(0);
        cb.set(c.subarray(start, start + m));
        runner.write(cIn.name, { shape: [B], data: cb });
      }
      runner.run();
      runs++;
      const y = (await runner.read(OUTPUT)).data;
      for (let i = 0; i < m * per; i++) out[start * per + i] = y[i];
    }
    return out;
  };
  return { denoise, batch: B, runs: () => runs, destroy: () => runner.destroy() };
}

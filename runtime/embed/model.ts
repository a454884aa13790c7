// A generated module's model at run time: its program on a device with the weights loaded,
// `forward` over any number of images (run in chunks of the compiled batch, the last padded with
// zeros; eval mode keeps images independent, so padding changes nothing), and `sample`, which
// draws images with the same samplers, noise stream and class layout as `unetc sample`
// (runtime/sample/sample.ts), so equal seeds give equal images.
import type { ModelData, ProgramData } from "../../compiler/wgsl/program-data.js";
import { sample as runSampler, samplerSchedule, type Denoiser, type SamplerKind } from "../diffusion/samplers.js";
import { ProgramError, ProgramRunner } from "./program-runner.js";
import { loadWeights, type WeightsSource } from "./weights.js";

/** A model's inputs by name: typed arrays with the batch axis first (a generated module names each). */
export type InputArrays<I> = { readonly [K in keyof I]: Float32Array | Int32Array };

export interface SampleRequest<C extends string> {
  /** Images in all; for a class-conditional model without `classId`, images per class (one row each). */
  readonly n: number;
  /** The class to draw, by id or name. */
  readonly classId?: number | C;
  readonly seed?: number;
  /** Sampling steps (default 100, as `unetc sample`). */
  readonly steps?: number;
  /** Default: ddim for a cosine-trained model, euler for a Karras one. */
  readonly sampler?: SamplerKind;
  /** DDIM's eta (default 1, the lesson's), Euler-ancestral's eta. */
  readonly eta?: number;
  /** After each step: steps done and in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SampleOutput {
  /** [count, ...imageShape] in [-1, 1]. */
  readonly images: Float32Array;
  readonly count: number;
  readonly shape: readonly number[];
  /** Images per grid row: the images per class when drawing every class. */
  readonly cols: number;
  /** The class of each image (class-conditional models). */
  readonly labels?: Int32Array;
  /** Program runs made. */
  readonly evaluations: number;
}

export interface UnetModel<I extends InputArrays<I>, C extends string> {
  readonly data: ModelData;
  readonly classNames: readonly C[];
  /** The schedule the weights were trained with, when the checkpoint or the module says. */
  readonly schedule: "cosine" | "karras" | undefined;
  /** Whether the checkpoint's EMA weights were loaded. */
  readonly ema: boolean;
  /** The optimizer steps the checkpoint was trained for, when it says. */
  readonly step: number | undefined;
  /** The model's output for `n` images (`n` read off the image input). */
  forward(inputs: I): Promise<Float32Array>;
  sample(request: SampleRequest<C>): Promise<SampleOutput>;
  /** Frees the model's GPU buffers. */
  destroy(): void;
}

/** What every module `unetc compile --emit ts` writes exports, for code that takes any model (a sampler page). */
export interface GeneratedModule<I extends InputArrays<I>, C extends string> {
  readonly modelName: string;
  readonly batch: number;
  readonly classNames: readonly C[];
  readonly imageShape: readonly number[];
  readonly model: ModelData;
  readonly program: ProgramData;
  createModel(device: GPUDevice, weights: WeightsSource, options?: { readonly ema?: boolean }): Promise<UnetModel<I, C>>;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** What a generated module's createModel calls: the program on `device`, the weights written. */
export async function instantiate<I extends InputArrays<I>, C extends string>(device: GPUDevice, weights: WeightsSource, data: ModelData, program: ProgramData, o: { ema?: boolean } = {}): Promise<UnetModel<I, C>> {
  const loaded = loadWeights(data, weights, o);
  const runner = await ProgramRunner.create(device, program);
  for (const [name, t] of loaded.tensors) if (runner.source(name)) runner.write(name, t);
  const B = data.batch;
  const image = data.inputs.find((i) => i.kind === "image");
  if (!image) throw new ProgramError(`model ${data.name} has no image input`);
  const per = numel(image.shape);
  const label = data.inputs.find((i) => i.kind === "label");
  const staging = new Map(data.inputs.map((i) => [i.name, i.dtype === "i32" ? new Int32Array(B * numel(i.shape)) : new Float32Array(B * numel(i.shape))]));
  let runs = 0;

  const forward = async (inputs: Readonly<Record<string, Float32Array | Int32Array>>): Promise<Float32Array> => {
    const x = inputs[image.name];
    if (!x || x.length % per !== 0) throw new ProgramError(`${image.name}: ${x?.length ?? 0} values are not whole images of [${image.shape.join(", ")}]`);
    const n = x.length / per;
    for (const i of data.inputs) {
      const v = inputs[i.name];
      if (!v || v.length !== n * numel(i.shape)) throw new ProgramError(`${i.name}: expected ${n * numel(i.shape)} values for ${n} images, got ${v?.length ?? 0}`);
    }
    const outPer = numel(data.output.shape);
    const out = new Float32Array(n * outPer);
    for (let start = 0; start < n; start += B) {
      const m = Math.min(B, n - start);
      for (const i of data.inputs) {
        const size = numel(i.shape);
        const buf = staging.get(i.name)!;
        buf.fill(0);
        buf.set(inputs[i.name].subarray(start * size, (start + m) * size));
        runner.write(i.name, buf);
      }
      runner.run();
      runs++;
      const y = await runner.read(data.output.name);
      out.set(y.subarray(0, m * outPer), start * outPer);
    }
    return out;
  };

  const timestep = data.inputs.find((i) => i.kind === "timestep");
  const denoise: Denoiser = (x, t, c) => forward({ [image.name]: x, ...(timestep ? { [timestep.name]: t } : {}), ...(label && c ? { [label.name]: c } : {}) });
  const classNames = (data.classNames ?? []) as readonly C[];
  const schedule = loaded.schedule ?? data.schedule;

  const classIndex = (c: number | C): number => {
    const i = typeof c === "number" ? c : classNames.indexOf(c);
    const classes = label?.classes ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= classes) throw new ProgramError(`class ${String(c)} is not one of the model's ${classes} classes`);
    return i;
  };

  const sample = async (r: SampleRequest<C>): Promise<SampleOutput> => {
    const sampler = r.sampler ?? (schedule === "karras" ? "euler" : "ddim");
    if (schedule && samplerSchedule(sampler) !== schedule) throw new ProgramError(`the ${sampler} sampler needs a model trained with the ${samplerSchedule(sampler)} schedule; these weights were trained with ${schedule}`);
    if (!Number.isInteger(r.n) || r.n < 1) throw new ProgramError(`n must be a positive integer, got ${r.n}`);
    if (r.classId !== undefined && !label) throw new ProgramError(`model ${data.name} is not class-conditional, so it takes no classId`);
    // The class layout of `unetc sample`: every class in rows of n, or n images of one class.
    const perClass = label !== undefined && r.classId === undefined;
    const count = perClass ? (label.classes ?? 1) * r.n : r.n;
    const cols = perClass ? r.n : Math.ceil(Math.sqrt(count));
    const fixed = r.classId === undefined ? 0 : classIndex(r.classId);
    const labels = label ? Int32Array.from({ length: count }, (_, i) => (perClass ? Math.floor(i / r.n) : fixed)) : undefined;
    const before = runs;
    const shape = [count, ...image.shape];
    const steps = r.steps ?? 100;
    const result = await runSampler(denoise, { sampler, shape, steps, seed: r.seed ?? 0, eta: r.eta, classes: labels, onStep: (i, total) => r.onProgress?.(i + 1, total) });
    return { images: result.x0, count, shape, cols, ...(labels ? { labels } : {}), evaluations: runs - before };
  };

  return {
    data,
    classNames,
    schedule,
    ema: loaded.ema,
    step: loaded.step,
    forward: (inputs) => forward(inputs as Readonly<Record<string, Float32Array | Int32Array>>),
    sample,
    destroy: () => runner.destroy(),
  };
}

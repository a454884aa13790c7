// The lesson's EmbUNetModel (fast.ai course22p2 nb 28, miniai diffusion.py) written by hand with
// TensorFlow.js ops, as a baseline for `npm run bench`: the same topology as
// models/lesson/emb_unet.unet with its std/lesson blocks, parameterised the same way (nfs,
// num_layers, attn_chans, attn_start, classes), its parameters taken by name from unetc's
// state_dict, BatchNorm in training mode, MSE against the target noise and Adam. It is written
// independently of unetc's op graph (nothing here reads the graph), so agreeing losses
// (tests/bench/tfjs-model.test.ts) mean the two really compute the same model.
//
// Layout: TF.js's native NHWC. Images and the target arrive NCHW (unetc's layout) and are
// transposed once per step; convolution weights arrive [Co, Ci, kh, kw] and are kept as
// [kh, kw, Ci, Co] (the only rank-4 parameters of this model are convolution weights).
// tfjs-core's Node build registers no gradient functions; the union package's build does (its
// bundle registers them on load, into the registry tfjs-core's engine reads).
import "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import type { ModelGraph, ParamSpec } from "../../compiler/check/model-graph.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import { TARGET } from "../../compiler/ir/step-contract.js";

export interface EmbUNetConfig {
  nfs: number[];
  numLayers: number;
  /** Channels per attention head; 0: no attention. */
  attnChans: number;
  /** First down level with attention (mirrored on the way up). */
  attnStart: number;
  /** > 0: a class embedding added to the time embedding. */
  classes: number;
  inChannels: number;
  outChannels: number;
  maxPeriod: number;
  /** The model's input names (the batch's keys): image, timestep and, with classes, label. */
  inputs: { image: string; timestep: string; label?: string };
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** PyTorch's BatchNorm defaults, as the course (and unetc's batchnorm layer) use them. */
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;
const LN_EPS = 1e-5;

/** The knobs of emb_unet.unet this model does not implement must be at the course's values. */
const COURSE_DEFAULTS: Record<string, unknown> = {
  attn_res: 0,
  emb_at: "every",
  inject: "scale_shift",
  skips: "concat",
  save_down: true,
  norm: "batch",
  mid: "resblock",
};

/** Reads the model's configuration from a checked emb_unet (its `--set` values included). */
export function configFromModel(model: ModelGraph): EmbUNetConfig {
  const c = model.config;
  for (const [k, v] of Object.entries(COURSE_DEFAULTS)) {
    if (c[k] !== undefined && c[k] !== v) throw new Error(`the TF.js EmbUNet implements ${k}=${JSON.stringify(v)} only, not ${JSON.stringify(c[k])}`);
  }
  const num = (k: string): number => {
    const v = c[k];
    if (typeof v !== "number") throw new Error(`model config '${k}' is ${JSON.stringify(v)}, expected a number (is this emb_unet?)`);
    return v;
  };
  const nfs = c.nfs;
  if (!Array.isArray(nfs) || !nfs.every((n): n is number => typeof n === "number")) throw new Error(`model config 'nfs' is ${JSON.stringify(nfs)}`);
  const input = (kind: string): string | undefined => model.inputs.find((i) => i.kind === kind)?.name;
  const image = input("image");
  const timestep = input("timestep");
  if (!image || !timestep) throw new Error("the TF.js EmbUNet needs an image and a timestep input");
  return {
    inputs: { image, timestep, label: input("label") },
    nfs,
    numLayers: num("num_layers"),
    attnChans: num("attn_chans"),
    attnStart: num("attn_start"),
    classes: num("classes"),
    inChannels: num("in_channels"),
    outChannels: num("out_channels"),
    maxPeriod: num("max_period"),
  };
}

/** The batch statistics one BatchNorm computed, for its running-stat update after the step. */
interface BatchStat {
  prefix: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

/** One forward pass in training mode; parameters come from `p` by state_dict name. */
class Forward {
  readonly stats: BatchStat[] = [];

  constructor(
    private readonly cfg: EmbUNetConfig,
    private readonly p: (name: string) => tf.Tensor,
  ) {}

  private silu(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(x));
  }

  /** BatchNorm2d on NHWC or BatchNorm1d on [N, C]: batch mean and biased variance. */
  private bn(x: tf.Tensor, prefix: string): tf.Tensor {
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    // kept: they outlive the gradient tape's tidy, for the running-stat update
    this.stats.push({ prefix, mean: tf.keep(mean as tf.Tensor1D), variance: tf.keep(variance as tf.Tensor1D), count: x.size / x.shape[x.rank - 1] });
    return tf.batchNorm(x, mean, variance, this.p(`${prefix}.bias`), this.p(`${prefix}.weight`), BN_EPS);
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS)));
    return tf.add(tf.mul(xhat, this.p(`${prefix}.weight`)), this.p(`${prefix}.bias`));
  }

  /** nn.Conv2d with padding k // 2 (PyTorch's symmetric padding, also for stride 2). */
  private conv(x: tf.Tensor4D, prefix: string, stride = 1, bias = true): tf.Tensor4D {
    const w = this.p(`${prefix}.weight`) as tf.Tensor4D;
    const y = tf.conv2d(x, w, stride, Math.floor(w.shape[0] / 2));
    return bias ? tf.add(y, this.p(`${prefix}.bias`)) : y;
  }

  /** nn.Linear on the last axis: weight [Out, In]. */
  private linear(x: tf.Tensor, prefix: string): tf.Tensor {
    const w = this.p(`${prefix}.weight`) as tf.Tensor2D;
    const lead = x.shape.slice(0, -1);
    const y = tf.add(tf.matMul(tf.reshape(x, [-1, w.shape[1]]), w, false, true), this.p(`${prefix}.bias`));
    return tf.reshape(y, [...lead, w.shape[0]]);
  }

  /** The course's timestep_embedding: [sin | cos] of t * exp(-ln(max_period) * linspace(0, 1, dim / 2)). */
  private sinusoidal(t: tf.Tensor1D, dim: number): tf.Tensor2D {
    const half = Math.floor(dim / 2);
    const freqs = tf.exp(tf.mul(tf.linspace(0, 1, half), -Math.log(this.cfg.maxPeriod)));
    const args = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, half]));
    const emb = tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
    return dim % 2 === 1 ? tf.pad(emb, [[0, 0], [0, 1]]) : emb;
  }

  /** SelfAttention2D: LayerNorm, qkv laid out [q|k|v] per head, softmax(q k^T / sqrt(d)) v, proj. */
  private attention(x: tf.Tensor4D, prefix: string): tf.Tensor4D {
    const [n, hh, ww, c] = x.shape;
    const s = hh * ww;
    const d = this.cfg.attnChans;
    const heads = c / d;
    const tokens = this.layerNorm(tf.reshape(x, [n, s, c]), `${prefix}.norm`); // NHWC: tokens in (h w) order
    const qkv = this.linear(tokens, `${prefix}.qkv`); // [n, s, 3c]
    const perHead = tf.reshape(tf.transpose(tf.reshape(qkv, [n, s, heads, 3 * d]), [0, 2, 1, 3]), [n * heads, s, 3 * d]);
    const [q, k, v] = tf.split(perHead, 3, 2);
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
    const out = tf.matMul(tf.softmax(scores), v); // [n*h, s, d]
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [n, heads, s, d]), [0, 2, 1, 3]), [n, s, c]);
    return tf.reshape(this.linear(merged, `${prefix}.proj`), [n, hh, ww, c]);
  }

  /** EmbResBlock: pre-activation convs, scale/shift from the embedding, id conv, optional attention. */
  private resblock(x: tf.Tensor4D, emb: tf.Tensor2D, prefix: string, nf: number, attn: boolean): tf.Tensor4D {
    let h = this.conv(this.silu(this.bn(x, `${prefix}.conv1.0`)) as tf.Tensor4D, `${prefix}.conv1.2`);
    const proj = this.linear(this.silu(emb), `${prefix}.emb_proj`); // [n, 2 nf]
    const [scale, shift] = tf.split(proj, 2, 1).map((e) => tf.reshape(e, [-1, 1, 1, nf]));
    h = tf.add(tf.mul(h, tf.add(scale, 1)), shift);
    h = this.conv(this.silu(this.bn(h, `${prefix}.conv2.0`)) as tf.Tensor4D, `${prefix}.conv2.2`);
    h = tf.add(h, x.shape[3] === nf ? x : this.conv(x, `${prefix}.idconv`));
    return attn ? tf.add(h, this.attention(h, `${prefix}.attn`)) : h;
  }

  /** x NHWC, t [N], c [N] int32 (with classes > 0) -> the predicted noise, NHWC. */
  run(x: tf.Tensor4D, t: tf.Tensor1D, c: tf.Tensor1D | undefined): tf.Tensor4D {
    const { nfs, numLayers, attnChans, attnStart } = this.cfg;
    const n = nfs.length;
    let emb = this.sinusoidal(t, nfs[0]);
    emb = this.linear(this.silu(this.linear(this.silu(this.bn(emb, "emb_mlp.0.0")), "emb_mlp.0.2")), "emb_mlp.1.1") as tf.Tensor2D;
    if (this.cfg.classes > 0) {
      if (!c) throw new Error("the model has classes but the batch has no labels");
      emb = tf.add(emb, tf.gather(this.p("cond_emb.weight"), c));
    }

    let h = this.conv(x, "conv_in");
    const skips: tf.Tensor4D[] = [h];
    nfs.forEach((nf, i) => {
      for (let j = 0; j < numLayers; j++) {
        h = this.resblock(h, emb, `downs.${i}.resnets.${j}`, nf, attnChans > 0 && i >= attnStart);
        skips.push(h);
      }
      if (i < n - 1) {
        h = this.conv(h, `downs.${i}.down`, 2);
        skips.push(h);
      }
    });
    h = this.resblock(h, emb, "mid_block", h.shape[3], false);
    [...nfs].reverse().forEach((nf, i) => {
      for (let j = 0; j <= numLayers; j++) {
        const skip = skips.pop();
        if (!skip) throw new Error("internal: skip stack exhausted");
        h = this.resblock(tf.concat([h, skip], 3), emb, `ups.${i}.resnets.${j}`, nf, attnChans > 0 && i < n - attnStart);
      }
      if (i < n - 1) h = this.conv(upsample2x(h), `ups.${i}.up.1`);
    });
    return this.conv(this.silu(this.bn(h, "conv_out.0")) as tf.Tensor4D, "conv_out.2", 1, false);
  }
}

/**
 * Nearest 2x upsampling: every row, then every pixel, twice. Not tf.image.resizeNearestNeighbor:
 * its gradient on the CPU backend (4.22) is wrong for a batch of more than one image (every
 * gradient upstream of the first up block differed from unetc's).
 */
function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const rows = tf.reshape(x, [n * h, 1, w * c]);
  const tall = tf.reshape(tf.concat([rows, rows], 1), [n * 2 * h * w, 1, c]);
  return tf.reshape(tf.concat([tall, tall], 1), [n, 2 * h, 2 * w, c]);
}

/** A unetc tensor (NCHW for images) as a TF.js tensor (NHWC for images). */
function toTf(t: Tensor, dtype: "float32" | "int32"): tf.Tensor {
  const x = dtype === "int32" ? tf.tensor(Int32Array.from(t.data), [...t.shape], "int32") : tf.tensor(Float32Array.from(t.data), [...t.shape], "float32");
  if (t.shape.length !== 4) return x;
  const nhwc = tf.transpose(x, [0, 2, 3, 1]);
  x.dispose();
  return nhwc;
}

/** The model's parameters as TF.js variables, its Adam optimizer and its training step. */
export class TfjsEmbUNet {
  /** Trainable parameters and BatchNorm running stats, by unetc's state_dict name. */
  readonly vars = new Map<string, tf.Variable>();
  private readonly trainable: tf.Variable[] = [];
  private readonly optimizer: tf.AdamOptimizer;

  /** `params`: unetc's initialised parameters and buffers by name (initParameters). */
  constructor(
    readonly cfg: EmbUNetConfig,
    specs: readonly ParamSpec[],
    params: ReadonlyMap<string, Tensor>,
    hyper: AdamHyper,
  ) {
    for (const spec of specs) {
      if (spec.dtype !== "f32") continue; // num_batches_tracked: it changes no loss
      const t = params.get(spec.name);
      if (!t) throw new Error(`no initial value for parameter '${spec.name}'`);
      const raw = tf.tensor(Float32Array.from(t.data), [...t.shape], "float32");
      const init = raw.rank === 4 ? tf.transpose(raw, [2, 3, 1, 0]) : raw; // [Co, Ci, kh, kw] -> [kh, kw, Ci, Co]
      const v = tf.variable(init, spec.kind === "param"); // shares init's data (ref-counted)
      tf.dispose([raw, init]);
      this.vars.set(spec.name, v);
      if (spec.kind === "param") this.trainable.push(v);
    }
    this.optimizer = tf.train.adam(hyper.lr, hyper.beta1, hyper.beta2, hyper.eps);
  }

  private param(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`the TF.js EmbUNet needs parameter '${name}', which the unetc model does not have`);
    return v;
  }

  /**
   * One training step on a batch named as unetc's (the model's inputs and `target`, images NCHW): forward,
   * MSE, gradients, Adam, running stats. Returns the loss before the update (as unetc's step
   * reports it) as a scalar tensor the caller reads and disposes.
   */
  step(batch: ReadonlyMap<string, Tensor>): tf.Scalar {
    const { value, grads, stats } = this.lossAndGrads(batch);
    this.optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.tidy(() => {
      for (const s of stats) {
        const mean = this.param(`${s.prefix}.running_mean`);
        const variance = this.param(`${s.prefix}.running_var`);
        const unbiased = tf.mul(s.variance, s.count / Math.max(s.count - 1, 1));
        mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
        variance.assign(tf.add(tf.mul(variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    });
    tf.dispose([...Object.values(grads), ...stats.flatMap((s) => [s.mean, s.variance])]);
    return value;
  }

  /** The loss's gradients by parameter name, in unetc's layout (for checks; changes nothing). */
  gradients(batch: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    const { value, grads, stats } = this.lossAndGrads(batch);
    const out = new Map<string, Tensor>();
    for (const [name, v] of this.vars) {
      const g = grads[v.name];
      if (!g) continue;
      const layout = g.rank === 4 ? tf.transpose(g, [3, 2, 0, 1]) : g; // [kh, kw, Ci, Co] -> [Co, Ci, kh, kw]
      out.set(name, { shape: layout.shape, data: layout.dataSync() as Float32Array });
      if (layout !== g) layout.dispose();
    }
    tf.dispose([value, ...Object.values(grads), ...stats.flatMap((s) => [s.mean, s.variance])]);
    return out;
  }

  private lossAndGrads(batch: ReadonlyMap<string, Tensor>): { value: tf.Scalar; grads: tf.NamedTensorMap; stats: BatchStat[] } {
    const get = (name: string): Tensor => {
      const t = batch.get(name);
      if (!t) throw new Error(`the batch has no '${name}'`);
      return t;
    };
    const { image, timestep, label } = this.cfg.inputs;
    const x = toTf(get(image), "float32") as tf.Tensor4D;
    const t = toTf(get(timestep), "float32") as tf.Tensor1D;
    const c = this.cfg.classes > 0 && label ? (toTf(get(label), "int32") as tf.Tensor1D) : undefined;
    const target = toTf(get(TARGET), "float32") as tf.Tensor4D;
    let stats: BatchStat[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const fwd = new Forward(this.cfg, (name) => this.param(name));
      const out = fwd.run(x, t, c);
      stats = fwd.stats;
      return tf.mean(tf.squaredDifference(out, target)) as tf.Scalar;
    }, this.trainable);
    tf.dispose([x, t, target, ...(c ? [c] : [])]);
    return { value, grads, stats };
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

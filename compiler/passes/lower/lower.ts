// Checked model -> op graph. Each layer of the model graph (per-sample shapes) becomes primitives
// over batched tensors [B, ...]. Parameters and buffers keep their dotted names; in training mode
// BatchNorm uses batch statistics and the graph also outputs `new.<buffer>` running statistics.
//
// Batched layouts: images [B, C, H, W], tokens [B, S, C], vectors [B, C], timesteps/labels [B].
// Values made only from parameters and constants have no batch axis (`batched: false`) and
// broadcast from the right against batched ones.
import { numel, type LayerNode, type ModelGraph, type ParamSpec } from "../../check/model-graph.js";
import { GraphBuilder } from "../../graph/builder.js";
import type { Graph } from "../../ir/types.js";
import type { Value } from "../../ir/value.js";
import * as C from "../../graph/composites/index.js";

export type LowerMode = "train" | "eval";

export interface LowerOptions {
  batch: number;
  mode: LowerMode;
}

interface Lowered {
  v: Value;
  /** Whether the value has the leading batch axis. */
  batched: boolean;
}

type AttrMap = LayerNode["attrs"];
const numAttr = (a: AttrMap, k: string): number => a[k] as number;

/** Names of the graph outputs that carry updated buffers in training mode. */
export const newBufferName = (name: string) => `new.${name}`;

export function lowerModel(model: ModelGraph, opts: LowerOptions): Graph {
  const b = new GraphBuilder();
  const B = opts.batch;
  const training = opts.mode === "train";
  const vals = new Map<number, Lowered>();
  const sources = new Map<string, Value>();
  // Parameters and buffers are graph sources, created in the model's order.
  for (const p of model.parameters) sources.set(p.name, p.kind === "param" ? b.param(p.name, p.shape) : b.buffer(p.name, p.shape));
  const get = (id: number): Lowered => vals.get(id)!;
  const src = (n: LayerNode, local: string): Value | null => {
    const spec = n.params.find((p: ParamSpec) => p.name === (n.path ? `${n.path}.${local}` : local));
    return spec ? sources.get(spec.name)! : null;
  };

  for (const n of model.nodes) {
    const out = b.withLabel(n.path || undefined, () => lowerNode(b, n, B, training, get, src, sources));
    if (out) vals.set(n.id, out);
  }
  const y = get(model.output);
  b.output("output", y.v);
  return b.build();
}

function lowerNode(
  b: GraphBuilder,
  n: LayerNode,
  B: number,
  training: boolean,
  get: (id: number) => Lowered,
  src: (n: LayerNode, local: string) => Value | null,
  sources: Map<string, Value>,
): Lowered | undefined {
  const a = n.attrs;
  const x = n.inputs.length ? get(n.inputs[0]) : undefined;
  const batched = (v: Value): Lowered => ({ v, batched: true });
  switch (n.op) {
    case "input": {
      const kind = a.kind as string;
      if (kind === "image") return batched(b.input(a.name as string, [B, ...n.shape]));
      if (kind === "label") return batched(b.input(a.name as string, [B], "i32"));
      return batched(b.input(a.name as string, [B]));
    }
    case "const":
      return { v: b.constant(numAttr(a, "value")), batched: false };
    case "param":
      return { v: sources.get(n.params[0].name)!, batched: false };
    case "conv2d":
      return batched(C.conv2dLayer(b, x!.v, src(n, "weight")!, src(n, "bias"), numAttr(a, "stride"), numAttr(a, "padding")));
    case "linear":
      return { v: C.linear(b, x!.v, src(n, "weight")!, src(n, "bias")), batched: x!.batched };
    case "batchnorm": {
      const rm = src(n, "running_mean")!;
      const rv = src(n, "running_var")!;
      const r = C.batchNorm(b, x!.v, src(n, "weight"), src(n, "bias"), rm, rv, { training, momentum: numAttr(a, "momentum"), eps: numAttr(a, "eps"), channelAxis: 1 });
      if (training && r.runningMean && r.runningVar) {
        const path = n.path ? `${n.path}.` : "";
        b.output(newBufferName(`${path}running_mean`), r.runningMean);
        b.output(newBufferName(`${path}running_var`), r.runningVar);
        const count = src(n, "num_batches_tracked");
        if (count) b.output(newBufferName(`${path}num_batches_tracked`), b.add(count, 1));
      }
      return batched(r.y);
    }
    case "groupnorm":
      return batched(C.groupNorm(b, x!.v, numAttr(a, "groups"), src(n, "weight"), src(n, "bias"), numAttr(a, "eps")));
    case "layernorm":
      return { v: C.layerNorm(b, x!.v, src(n, "weight"), src(n, "bias"), numAttr(a, "eps")), batched: x!.batched };
    case "embedding":
      return batched(C.embeddingGather(b, src(n, "weight")!, x!.v));
    case "sinusoidal":
      return batched(sinusoidal(b, x!.v, numAttr(a, "dim"), numAttr(a, "max_period"), numAttr(a, "freq_shift"), a.flip === true));
    case "silu":
      return { v: C.silu(b, x!.v), batched: x!.batched };
    case "gelu":
      return { v: C.gelu(b, x!.v), batched: x!.batched };
    case "relu":
      return { v: b.relu(x!.v), batched: x!.batched };
    case "sigmoid":
      return { v: b.sigmoid(x!.v), batched: x!.batched };
    case "tanh":
      return { v: b.tanh(x!.v), batched: x!.batched };
    case "flatten":
      return { v: b.reshape(x!.v, x!.batched ? [B, numel(n.shape)] : [numel(n.shape)]), batched: x!.batched };
    case "mean_pool": {
      // images [C, H, W] -> mean over H, W; tokens [S, C] -> mean over S (after the batch axis, if any)
      const lead = x!.batched ? 1 : 0;
      const axes = x!.v.rank - lead === 3 ? [lead + 1, lead + 2] : [lead];
      return { v: b.mean(x!.v, axes), batched: x!.batched };
    }
    case "tap":
      // Taps are read in eval mode (features for FID); a training step has no use for them.
      // An output has a row per sample, even for a value that is the same for all of them.
      if (!training) b.output(a.name as string, x!.batched ? x!.v : b.broadcastTo(x!.v, [B, ...n.shape]));
      return x;
    case "upsample":
      return batched(upsampleNearest(b, x!.v, numAttr(a, "factor")));
    case "concat": {
      const parts = n.inputs.map((id) => get(id).v);
      return batched(b.concat(parts, numAttr(a, "axis") + 1));
    }
    case "slice":
      return { v: b.sliceAxis(x!.v, numAttr(a, "axis") + (x!.batched ? 1 : 0), numAttr(a, "start"), numAttr(a, "end")), batched: x!.batched };
    case "attention": {
      const heads = numAttr(a, "heads");
      const qkv = a.layout === "blocks" ? blocksToPerHead(b, x!.v, heads) : x!.v;
      return batched(C.attentionCore(b, qkv, heads));
    }
    case "rearrange": {
      const split = a.inShape as number[];
      const perm = a.perm as number[];
      const r = b.reshape(b.transpose(b.reshape(x!.v, [B, ...split]), [0, ...perm.map((p) => p + 1)]), [B, ...n.shape]);
      return batched(r);
    }
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const [l, r] = n.inputs.map(get);
      const shapeL = alignForBroadcast(b, l, r, n);
      const shapeR = alignForBroadcast(b, r, l, n);
      const v = b[n.op](shapeL, shapeR);
      return { v, batched: l.batched || r.batched };
    }
    default:
      throw new Error(`lowering: no rule for layer op '${n.op}' (at ${n.path || "the model's top level"})`);
  }
}

/**
 * The language broadcasts a per-sample vector [C] over an image's channels ([C, H, W]) and a
 * per-sample scalar over everything. Batched, those are [B, C] and [B]: reshape them to
 * [B, C, 1, 1] / [B, 1, 1, 1] (or [B, 1, C] for tokens) so numpy broadcasting lines up.
 */
function alignForBroadcast(b: GraphBuilder, x: Lowered, other: Lowered, n: LayerNode): Value {
  const outRank = n.shape.length;
  const own = x.batched ? x.v.shape.length - 1 : x.v.shape.length;
  if (!x.batched || own === outRank) return x.v;
  const B = x.v.shape[0];
  if (own === 0) return b.reshape(x.v, [B, ...Array(outRank).fill(1)]);
  if (own === 1 && outRank === 3) return b.reshape(x.v, [B, x.v.shape[1], 1, 1]);
  if (own === 1 && outRank === 2) return b.reshape(x.v, [B, 1, x.v.shape[1]]);
  void other;
  return x.v;
}

/** Sinusoidal embedding t [B] -> [B, dim]: t * exp(-ln(P) k / (half - shift)) as [sin | cos]. */
function sinusoidal(b: GraphBuilder, t: Value, dim: number, maxPeriod: number, freqShift: number, flip: boolean): Value {
  const half = Math.floor(dim / 2);
  const freqs = Array.from({ length: half }, (_, k) => Math.exp((-Math.log(maxPeriod) * k) / (half - freqShift)));
  const args = b.mul(b.reshape(t, [t.shape[0], 1]), b.constant(freqs, [1, half]));
  const parts = flip ? [b.cos(args), b.sin(args)] : [b.sin(args), b.cos(args)];
  const emb = b.concat(parts, 1);
  return dim % 2 === 1 ? b.pad(emb, [0, 0], [0, 1]) : emb;
}

/** Nearest-neighbour upsampling of [B, C, H, W] by an integer factor via reshape + broadcast. */
function upsampleNearest(b: GraphBuilder, x: Value, f: number): Value {
  if (f === 2) return C.upsampleNearest2x(b, x);
  const [B, Ch, H, W] = x.shape;
  const wide = b.broadcastTo(b.reshape(x, [B, Ch, H, 1, W, 1]), [B, Ch, H, f, W, f]);
  return b.reshape(wide, [B, Ch, H * f, W * f]);
}

/** [q | k | v] blocks of C = heads * d features -> per-head [q_h | k_h | v_h] layout. */
function blocksToPerHead(b: GraphBuilder, qkv: Value, heads: number): Value {
  const [B, S, C3] = qkv.shape;
  const d = C3 / 3 / heads;
  return b.reshape(b.transpose(b.reshape(qkv, [B, S, 3, heads, d]), [0, 1, 3, 2, 4]), [B, S, C3]);
}

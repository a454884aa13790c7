// The checked model: every layer of the spec, elaborated for concrete parameters, with its
// module path, per-sample output shape ([C, H, W] images, [S, C] tokens, [C] vectors, [] scalars),
// the parameters it owns (dotted names as in a PyTorch state_dict) and where in the spec it came from.
// The batch dimension is implicit here; lowering to the op graph adds it.
import type { Span } from "../diagnostics/source.js";
import type { InputKind, LayerAttrs, LayerKind } from "./layer-kinds.js";

export type { ArithKind, AttentionLayout, InputKind, LayerAttrs, LayerKind, UnaryKind } from "./layer-kinds.js";

export type DTypeName = "f32" | "i32" | "i64";

export interface ParamSpec {
  /** Full dotted name, e.g. `downs.1.resnets.0.conv1.2.weight`. */
  name: string;
  shape: number[];
  kind: "param" | "buffer";
  dtype: DTypeName;
  /** How a fresh model initialises it (PyTorch's defaults for the layer that owns it). */
  init: ParamInit;
}

export type ParamInit =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "normal"; std: number }
  /** PyTorch's default for conv/linear: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (kaiming_uniform with a=sqrt(5) gives this bound). */
  | { kind: "uniform_fan_in"; fanIn: number };

/** A node of kind K: its attributes are those of LayerAttrs[K]. */
export interface LayerNodeOf<K extends LayerKind> {
  id: number;
  /** A built-in layer (`conv2d`, `linear`, ...), an arithmetic op (`add`, ...), `input` or `const`. */
  op: K;
  inputs: number[];
  attrs: LayerAttrs[K];
  /** Module path of the layer (`downs.1.resnets.0.conv1.2`); for parameter-free ops, the enclosing module. */
  path: string;
  params: ParamSpec[];
  shape: number[];
  dtype: DTypeName;
  flops: number;
  span: Span;
}

/** Any node, discriminated by `op`. */
export type LayerNode = { [K in LayerKind]: LayerNodeOf<K> }[LayerKind];

export interface ModelInput {
  name: string;
  kind: InputKind;
  shape: number[];
  /** For labels: the number of classes. */
  classes?: number;
  node: number;
  span: Span;
}

export interface ModelGraph {
  name: string;
  /** The model parameters after defaults and overrides. */
  config: Record<string, unknown>;
  inputs: ModelInput[];
  nodes: LayerNode[];
  output: number;
  /** Every parameter and buffer, in the order the layers created them. */
  parameters: ParamSpec[];
}

/** What a model is trained for, read off its interface: a model that returns a vector of
 *  logits [K] from an image alone is a classifier (cross-entropy on the image's class); one that
 *  returns an image is a denoiser (diffusion, MSE). */
export type ModelTask = "denoise" | "classify";

export function modelTask(g: ModelGraph): ModelTask {
  return g.nodes[g.output].shape.length === 1 ? "classify" : "denoise";
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface ModelTotals {
  parameters: number;
  buffers: number;
  flops: number;
  activationBytes: number;
}

/** Totals per image: trainable parameter count, forward FLOPs, bytes of every activation (float32). */
export function modelTotals(g: ModelGraph): ModelTotals {
  let parameters = 0;
  let buffers = 0;
  for (const p of g.parameters) {
    if (p.kind === "param") parameters += numel(p.shape);
    else buffers += numel(p.shape);
  }
  let flops = 0;
  let activationBytes = 0;
  for (const n of g.nodes) {
    flops += n.flops;
    if (n.op !== "input" && n.op !== "const") activationBytes += numel(n.shape) * 4;
  }
  return { parameters, buffers, flops, activationBytes };
}

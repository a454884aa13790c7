// Checked model -> op graph. Each layer of the model graph (per-sample shapes) becomes primitives
// over batched tensors [B, ...] by its kind's lowering rule in compiler/layers. Parameters and
// buffers keep their dotted names and become graph sources, created in the model's order.
import type { LayerKind, LayerNodeOf, ModelGraph } from "../../check/model-graph.js";
import { GraphBuilder } from "../../graph/builder.js";
import type { Graph } from "../../ir/types.js";
import type { Value } from "../../ir/value.js";
import { OUTPUT } from "../../ir/step-contract.js";
import { LAYER_DEFS, type LowerCtx, type Lowered } from "../../layers/index.js";

export type LowerMode = "train" | "eval";

export interface LowerOptions {
  batch: number;
  mode: LowerMode;
  /** Attention as one fused op (default), or decomposed into primitives (--opt 0). */
  fusedAttention?: boolean;
  /** Training-mode BatchNorm as the fused ops (default), or decomposed (--opt 0). */
  fusedBatchNorm?: boolean;
  /** LayerNorm as the fused ops (default), or decomposed (--opt 0). */
  fusedLayerNorm?: boolean;
}

export function lowerModel(model: ModelGraph, opts: LowerOptions): Graph {
  const b = new GraphBuilder();
  const vals = new Map<number, Lowered>();
  const sources = new Map<string, Value>();
  for (const p of model.parameters) sources.set(p.name, p.kind === "param" ? b.param(p.name, p.shape) : b.buffer(p.name, p.shape));
  const cx: LowerCtx = {
    b,
    batch: opts.batch,
    training: opts.mode === "train",
    fusedAttention: opts.fusedAttention ?? true,
    fusedBatchNorm: opts.fusedBatchNorm ?? true,
    fusedLayerNorm: opts.fusedLayerNorm ?? true,
    get: (id) => vals.get(id)!,
    own: (n, local) => {
      const spec = n.params.find((p) => p.name === (n.path ? `${n.path}.${local}` : local));
      return spec ? sources.get(spec.name)! : null;
    },
    source: (name) => sources.get(name)!,
  };
  for (const n of model.nodes) {
    const out = b.withLabel(n.path || undefined, () => lowerNode(cx, n));
    if (out) vals.set(n.id, out);
  }
  b.output(OUTPUT, cx.get(model.output).v);
  return b.build();
}

function lowerNode<K extends LayerKind>(cx: LowerCtx, n: LayerNodeOf<K>): Lowered | undefined {
  return LAYER_DEFS[n.op].lower(cx, n);
}

// Reverse-mode autodiff on the op graph (tinygrad's compute_gradient, JAX's backward_pass).
//
// The driver walks the nodes between the inputs of interest and the loss in reverse,
// asking each op's VJP rule for its inputs' cotangents. Two things happen here once so
// that every rule is only the math:
//  - fan-out: a value read by several nodes (a skip activation saved for the decoder and
//    also fed to the next block) receives one cotangent per reader; they are summed.
//  - un-broadcast: a rule may return a cotangent at its broadcast output shape; it is
//    summed over the broadcast axes back to the input's shape.
// Only nodes that both depend on a `wrt` value and feed the loss get gradients, so nothing
// unneeded is built (the final build() prunes any leftovers of multi-output rules).

import type { GraphBuilder } from "../../graph/builder.js";
import { broadcastsTo, formatType, shapesEqual } from "../../ir/shape.js";
import type { Shape, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import type { Value } from "../../ir/value.js";
import { registry } from "../../ops/index.js";
import type { OpDef, VjpRule } from "../../ops/def.js";
import type { OpKind } from "../../ir/kinds.js";
import { formatNode } from "../../ir/printer.js";

export interface GradientOptions {
  /** Cotangent of `y` (default: ones, i.e. the gradient of sum(y)). */
  readonly seed?: Value;
}

/**
 * Appends to `b` the gradient of `y` with respect to each of `wrt`, returned in order.
 * A `wrt` value `y` does not depend on gets zeros.
 */
export function appendGradients(b: GraphBuilder, y: Value, wrt: readonly Value[], opts: GradientOptions = {}): Value[] {
  const wrtIds = new Set(wrt.map((v) => v.id));
  const relevant = relevantNodes(b, y.id, wrtIds);
  const seed = opts.seed ?? b.constant(1, y.shape);
  if (!shapesEqual(seed.shape, y.shape)) throw new Error(`autodiff: seed ${formatType(seed)} does not match ${formatType(y)}`);

  const grads = new Map<ValueId, Value>();
  if (relevant.has(y.id)) grads.set(y.id, seed);
  for (let id = y.id; id >= 0; id--) {
    const g = grads.get(id);
    if (!g || !relevant.has(id)) continue;
    if (!wrtIds.has(id)) grads.delete(id); // consumed; keeps the map small
    const node = b.node(id);
    if (isSource(node)) continue;
    const wants = node.inputs.map((i) => relevant.has(i));
    if (!wants.some(Boolean)) continue;
    const rule = vjpRuleOf(node.op, () => formatNode(b.build({ prune: false }), node));
    const inputs = node.inputs.map((i) => b.value(i));
    const label = node.label === undefined ? b.currentLabel : `grad ${node.label}`;
    b.withLabel(label, () => {
      const cotangents = rule({ b, inputs, out: b.value(id), g, params: node.params, wants });
      node.inputs.forEach((inputId, i) => {
        const ct = cotangents[i];
        if (!wants[i] || !ct) return;
        const reduced = unbroadcast(b, ct, inputs[i].shape);
        const prev = grads.get(inputId);
        grads.set(inputId, prev ? b.add(prev, reduced) : reduced);
      });
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? b.zerosLike(w));
}

/** Float values on a path from some `wrt` value to `y` (both ends included). */
function relevantNodes(b: GraphBuilder, y: ValueId, wrt: ReadonlySet<ValueId>): Set<ValueId> {
  const fromWrt = new Set<ValueId>();
  for (let id = 0; id <= y; id++) {
    const node = b.node(id);
    if (node.dtype !== "f32") continue;
    if (wrt.has(id) || (!isSource(node) && node.inputs.some((i) => fromWrt.has(i)))) fromWrt.add(id);
  }
  const relevant = new Set<ValueId>();
  if (fromWrt.has(y)) relevant.add(y);
  for (let id = y; id >= 0; id--) {
    const node = b.node(id);
    if (!relevant.has(id) || isSource(node)) continue;
    for (const i of node.inputs) if (fromWrt.has(i)) relevant.add(i);
  }
  return relevant;
}

function vjpRuleOf(op: OpKind, where: () => string): VjpRule<OpKind> {
  const def = registry[op] as OpDef<OpKind>;
  if (typeof def.vjp !== "function") {
    throw new Error(`autodiff: op '${op}' has no gradient rule (${def.vjp.none}), needed for ${where()}`);
  }
  return def.vjp;
}

/** Sums a cotangent over the axes along which `shape` was broadcast to reach it. */
export function unbroadcast(b: GraphBuilder, g: Value, shape: Shape): Value {
  if (shapesEqual(g.shape, shape)) return g;
  if (!broadcastsTo(shape, g.shape)) throw new Error(`autodiff: cotangent ${formatType(g)} cannot be summed back to shape [${shape.join(",")}]`);
  const lead = g.rank - shape.length;
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return b.reshape(b.sum(g, axes, false), shape);
}

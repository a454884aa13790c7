// Public autodiff API: `appendGradients` inside a builder, `gradGraph` for a whole graph.

import { GraphBuilder } from "../../graph/builder.js";
import { gradName } from "../../ir/step-contract.js";
import type { Graph } from "../../ir/types.js";
import { appendGradients } from "./gradients.js";

export { appendGradients, unbroadcast } from "./gradients.js";
export type { GradientOptions } from "./gradients.js";

export interface GradGraphOptions {
  /** The output to differentiate (summed if not a scalar). */
  readonly of: string;
  /** Graph-input names to differentiate with respect to. */
  readonly wrt: readonly string[];
  /** Name of an extra graph input holding the cotangent of `of` (default: ones). */
  readonly seedInput?: string;
}

/**
 * The given graph plus, for each `wrt` name, an output `grad.<name>` (the step contract's
 * gradName). Forward outputs are kept, so one run yields the values and their gradients.
 */
export function gradGraph(graph: Graph, opts: GradGraphOptions): Graph {
  const { builder: b } = GraphBuilder.fromGraph(graph);
  const y = b.outputValue(opts.of);
  if (!y) throw new Error(`gradGraph: the graph has no output '${opts.of}'`);
  const wrt = opts.wrt.map((name) => {
    const v = b.lookup(name);
    if (!v) throw new Error(`gradGraph: the graph has no input '${name}'`);
    return v;
  });
  const seed = opts.seedInput === undefined ? undefined : b.input(opts.seedInput, y.shape);
  const grads = appendGradients(b, y, wrt, { seed });
  grads.forEach((g, i) => b.output(gradName(opts.wrt[i]), g));
  return b.build();
}

// The whole training step as one graph: forward (already in training mode), the loss (MSE or cross-entropy),
// gradients of every parameter, optimizer update.
//
// Naming contract with the runtime (the training loop and `unetc run --mode step`):
//   inputs   the forward's inputs, `target` (shape of the prediction), the scalars in
//            HYPER_PARAMS, every param, every buffer, and `adam.m.<p>`, `adam.v.<p>` buffers
//   outputs  `loss`, the forward's outputs (`output`, `new.<buffer>` running stats),
//            `grad.<p>`, `new.<p>`, `new.adam.m.<p>`, `new.adam.v.<p>`
// Invariant: for every param or buffer X with an output `new.X`, the next step feeds
// `new.X` as X. Optimizer state starts at zeros; `step` counts updates from 1.

import type { ModelTask } from "../../check/model-graph.js";
import { GraphBuilder } from "../../graph/builder.js";
import { crossEntropyLoss, mseLoss } from "../../graph/composites/layers.js";
import { formatType, shapesEqual } from "../../ir/shape.js";
import type { Graph, SourceNode } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import { appendGradients } from "../autodiff/gradients.js";
import { adamScalars, adamUpdate, type OptimizerKind } from "./adam.js";
import { adamStateName, gradName, LOSS, newName, OUTPUT, TARGET } from "../../ir/step-contract.js";

export interface TrainStepOptions {
  readonly optimizer: OptimizerKind;
  /** The forward output the loss compares with the target; default "output". */
  readonly output?: string;
  /** Name of the target input; default "target". */
  readonly target?: string;
  /** "mse" (diffusion: the noise or the preconditioned target) or "cross_entropy" (a classifier's
   *  logits [B, K] against class probabilities [B, K], one-hot for labels). Default "mse". */
  readonly loss?: LossKind;
  /** Adam's g + wd * p built once per moment, to fuse into each (adam.ts); default true, off at --opt 0. */
  readonly fuseDecayedGrad?: boolean;
}

export type LossKind = "mse" | "cross_entropy";

/** A denoiser is fitted with MSE, a classifier with cross-entropy. */
export const lossForTask = (task: ModelTask): LossKind => (task === "classify" ? "cross_entropy" : "mse");

export function buildTrainStep(forward: Graph, opts: TrainStepOptions): Graph {
  const outputName = opts.output ?? OUTPUT;
  const targetName = opts.target ?? TARGET;
  const { builder: b } = GraphBuilder.fromGraph(forward);
  if (b.outputValue(LOSS)) throw new Error(`buildTrainStep: the forward graph already has an output named 'loss'`);
  const pred = b.outputValue(outputName);
  if (!pred) throw new Error(`buildTrainStep: the forward graph has no output '${outputName}'`);
  const target = b.lookup(targetName) ?? b.input(targetName, pred.shape);
  if (!shapesEqual(target.shape, pred.shape)) {
    throw new Error(`buildTrainStep: target '${targetName}' is ${formatType(target)} but '${outputName}' is ${formatType(pred)}`);
  }

  const loss = opts.loss === "cross_entropy" ? crossEntropyLoss(b, pred, target) : mseLoss(b, pred, target);
  b.output(LOSS, loss);

  const params = forward.nodes.filter((n): n is SourceNode => isSource(n) && n.op === "param");
  const paramValues = params.map((p) => b.lookup(p.name)!);
  const grads = b.withLabel("backward", () => appendGradients(b, loss, paramValues));

  b.withLabel("optimizer", () => {
    const scalars = adamScalars(b);
    params.forEach((p, i) => {
      const m = b.buffer(adamStateName("m", p.name), p.shape);
      const v = b.buffer(adamStateName("v", p.name), p.shape);
      const next = adamUpdate(b, opts.optimizer, scalars, { param: paramValues[i], m, v }, grads[i], opts.fuseDecayedGrad ?? true);
      b.output(gradName(p.name), grads[i]);
      b.output(newName(p.name), next.param);
      b.output(newName(adamStateName("m", p.name)), next.m);
      b.output(newName(adamStateName("v", p.name)), next.v);
    });
  });
  return b.build();
}

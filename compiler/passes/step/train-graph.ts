// The training loop's step graph: the compiler's training step (forward, loss, backward, Adam)
// plus two pieces of on-device state, so a step needs no readback:
//   metrics.loss_sum   a running sum of the loss; the loop reads it every N steps and resets it
//                      (the mean over those steps, exactly, without reading every step's loss)
//   ema.<X>            with EMA on: an exponential moving average of every parameter and float
//                      buffer X (timm's ModelEmaV2: ema = decay*ema + (1-decay)*X after each
//                      update; num_batches_tracked is not averaged), decay as scalar `ema_decay`
// Both follow the step graph's contract: source X, output `new.X`, fed back after each run.
import { modelTask, type ModelGraph } from "../../check/model-graph.js";
import { GraphBuilder } from "../../graph/builder.js";
import type { Graph } from "../../ir/types.js";
import { lowerModel } from "../lower/lower.js";
import { buildTrainStep, lossForTask, type OptimizerKind } from "./index.js";

export const LOSS_SUM = "metrics.loss_sum";
export const EMA_DECAY = "ema_decay";
export const emaName = (name: string): string => `ema.${name}`;

/** The model's tensors that an EMA averages: every param and every float buffer but the BN step counters. */
export function emaTargets(model: ModelGraph): string[] {
  return model.parameters.filter((p) => p.dtype === "f32" && !p.name.endsWith("num_batches_tracked")).map((p) => p.name);
}

export interface TrainGraphOptions {
  readonly batch: number;
  readonly optimizer: OptimizerKind;
  readonly ema: boolean;
}

export function buildTrainGraph(model: ModelGraph, o: TrainGraphOptions): Graph {
  const step = buildTrainStep(lowerModel(model, { batch: o.batch, mode: "train" }), { optimizer: o.optimizer, loss: lossForTask(modelTask(model)) });
  const { builder: b } = GraphBuilder.fromGraph(step);
  const loss = b.outputValue("loss");
  if (!loss) throw new Error("internal: the training step has no loss output");
  b.withLabel("metrics", () => {
    const sum = b.buffer(LOSS_SUM, loss.shape);
    b.output(`new.${LOSS_SUM}`, b.add(sum, loss));
  });
  if (o.ema) {
    b.withLabel("ema", () => {
      const decay = b.scalar(EMA_DECAY);
      const rest = b.sub(1, decay);
      for (const name of emaTargets(model)) {
        const next = b.outputValue(`new.${name}`) ?? b.lookup(name);
        if (!next) throw new Error(`internal: the training step has no tensor '${name}'`);
        const avg = b.buffer(emaName(name), next.shape);
        b.output(`new.${emaName(name)}`, b.add(b.mul(avg, decay), b.mul(next, rest)));
      }
    });
  }
  return b.build();
}

// The training loop's extras over a training step: two pieces of on-device state, so a step
// needs no readback:
//   metrics.loss_sum   a running sum of the loss; the loop reads it every N steps and resets it
//                      (the mean over those steps, exactly, without reading every step's loss)
//   ema.<X>            with EMA on: an exponential moving average of every parameter and float
//                      buffer X (timm's ModelEmaV2: ema = decay*ema + (1-decay)*X after each
//                      update; num_batches_tracked is not averaged), decay as scalar `ema_decay`
// Both follow the step graph's contract: source X, output `new.X`, fed back after each run.
import type { ModelGraph } from "../../check/model-graph.js";
import { GraphBuilder } from "../../graph/builder.js";
import type { Graph } from "../../ir/types.js";
import { EMA_DECAY, emaName, LOSS, LOSS_SUM, newName } from "../../ir/step-contract.js";

/** The model's tensors that an EMA averages: every param and every float buffer but the BN step counters. */
export function emaTargets(model: ModelGraph): string[] {
  return model.parameters.filter((p) => p.dtype === "f32" && !p.name.endsWith("num_batches_tracked")).map((p) => p.name);
}

export interface LoopStateOptions {
  /** Sum the loss on the device (`metrics.loss_sum`). */
  readonly lossSum: boolean;
  /** Average these tensors (emaTargets) on the device; none: no EMA. */
  readonly ema: readonly string[];
}

/** The step graph with the loop's state added (the loss sum first, then the EMA). */
export function addLoopState(step: Graph, o: LoopStateOptions): Graph {
  if (!o.lossSum && o.ema.length === 0) return step;
  const { builder: b } = GraphBuilder.fromGraph(step);
  const loss = b.outputValue(LOSS);
  if (!loss) throw new Error("internal: the training step has no loss output");
  if (o.lossSum) {
    b.withLabel("metrics", () => {
      const sum = b.buffer(LOSS_SUM, loss.shape);
      b.output(newName(LOSS_SUM), b.add(sum, loss));
    });
  }
  if (o.ema.length) {
    b.withLabel("ema", () => {
      const decay = b.scalar(EMA_DECAY);
      const rest = b.sub(1, decay);
      for (const name of o.ema) {
        const next = b.outputValue(newName(name)) ?? b.lookup(name);
        if (!next) throw new Error(`internal: the training step has no tensor '${name}'`);
        const avg = b.buffer(emaName(name), next.shape);
        b.output(newName(emaName(name)), b.add(b.mul(avg, decay), b.mul(next, rest)));
      }
    });
  }
  return b.build();
}

// Times a compiled training step the way every benchmark here does: a fixed synthetic batch,
// the first step timed apart (pipeline warm-up on a GPU, the JIT on the CPU), then the median.
// The batch, the seed of the parameters and Adam's hyper-parameters are exported so that a
// baseline written outside unetc (bench/tfjs) trains from the same start on the same data.
import { syntheticBatch, type StepSession } from "../runtime/session/step-session.js";
import type { Tensor } from "../compiler/ir/tensor.js";
import { LOSS } from "../compiler/ir/step-contract.js";
import { Rng } from "../runtime/session/rng.js";

/** Adam as every benchmark step runs it (the course's Adam: eps 1e-5, no weight decay). */
export const BENCH_ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5 } as const;
/** The seed of the benchmarked sessions' initial parameters (createStepSession's `seed`). */
export const BENCH_SEED = 0;

type BenchModel = Parameters<typeof syntheticBatch>[0];

/** The one batch every benchmark step trains on. */
export function benchBatch(model: BenchModel, batch: number): Map<string, Tensor> {
  return syntheticBatch(model, batch, new Rng(1));
}

export interface StepTimes {
  /** ms of the first step (warm-up included). */
  first: number;
  /** Median ms of the steps after the first. */
  median: number;
  /** The loss of the last step (before its update). */
  loss: number;
  /** The loss of the first step: the initial parameters on the batch, comparable across implementations. */
  firstLoss: number;
}

/** Median of the times after the first (the upper middle for an even count). */
export function summarize(times: readonly number[], losses: readonly number[]): StepTimes {
  const rest = times.slice(1).sort((x, y) => x - y);
  return { first: times[0], median: rest[Math.floor(rest.length / 2)], loss: losses[losses.length - 1], firstLoss: losses[0] };
}

export async function timeSteps(session: StepSession, model: BenchModel, batch: number, steps: number): Promise<StepTimes> {
  const data = benchBatch(model, batch);
  const times: number[] = [];
  const losses: number[] = [];
  for (let s = 1; s <= steps + 1; s++) {
    const t = performance.now();
    session.feedBatch(data);
    session.setHyper({ ...BENCH_ADAM, weightDecay: 0, step: s });
    session.runner.run();
    losses.push((await session.runner.read(LOSS)).data[0]); // waits for the step to finish
    times.push(performance.now() - t);
  }
  return summarize(times, losses);
}

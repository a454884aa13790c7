// Times a compiled training step the way every benchmark here does: a fixed synthetic batch,
// the first step timed apart (pipeline warm-up on a GPU, the JIT on the CPU), then the median.
import { syntheticBatch, type StepSession } from "../runtime/session/step-session.js";
import { LOSS } from "../compiler/ir/step-contract.js";
import { Rng } from "../runtime/session/rng.js";

export async function timeSteps(session: StepSession, model: Parameters<typeof syntheticBatch>[0], batch: number, steps: number): Promise<{ first: number; median: number; loss: number }> {
  const rng = new Rng(1);
  const data = syntheticBatch(model, batch, rng);
  const times: number[] = [];
  let loss = NaN;
  for (let s = 1; s <= steps + 1; s++) {
    const t = performance.now();
    session.feedBatch(data);
    session.setHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step: s });
    session.runner.run();
    loss = (await session.runner.read(LOSS)).data[0]; // waits for the step to finish
    times.push(performance.now() - t);
  }
  const rest = times.slice(1).sort((x, y) => x - y);
  return { first: times[0], median: rest[Math.floor(rest.length / 2)], loss };
}

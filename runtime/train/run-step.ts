// `unetc run-step`: the whole training step compiled and run for a few steps on random data.
// It shows what the compiler made of the model: kernels per step, the memory plan, the loss.
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import type { OptLevel } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { createStepSession, syntheticBatch } from "../session/step-session.js";
import { Rng } from "../session/rng.js";
import { describeAdapter } from "../webgpu/device.js";
import { WebGpuRunner } from "../session/runner.js";

export interface RunStepOptions {
  steps: number;
  batch: number;
  seed: number;
  device: "webgpu" | "reference";
  optimizer: "adam" | "adamw";
  lr: number;
  /** 0: compile with every optimization off (to compare against); 1: all on. */
  opt: OptLevel;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

export async function runStep(model: ModelGraph, opts: RunStepOptions, print: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  const session = await createStepSession(model, { batch: opts.batch, optimizer: opts.optimizer, device: opts.device, seed: opts.seed, opt: opts.opt });
  const ops = session.graph.nodes.filter((n) => !isSource(n)).length;
  if (session.gpu) print(describeAdapter(session.gpu));
  print(`model ${model.name}: training step graph of ${ops} ops, batch ${opts.batch}, ${opts.optimizer}, opt ${opts.opt}`);
  if (session.runner instanceof WebGpuRunner) {
    const s = session.runner.executor.stats;
    print(`kernels per step: ${s.kernels} (${s.pipelines} distinct pipelines), one command buffer per step`);
    print(
      `memory plan: peak live ${mib(s.plan.peakLiveBytes)}, allocated ${mib(s.plan.allocatedBytes)} in ${s.plan.slots.length} buffers ` +
        `(no reuse: ${mib(s.plan.naiveBytes)}); parameters, optimizer state and inputs ${mib(s.persistentBytes)}`,
    );
  }
  print(`compiled in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const rng = new Rng(opts.seed + 1);
  for (let step = 1; step <= opts.steps; step++) {
    const t = performance.now();
    session.feedBatch(syntheticBatch(model, opts.batch, rng));
    session.setHyper({ lr: opts.lr, beta1: 0.9, beta2: 0.999, eps: 1e-5, weightDecay: 0, step });
    session.runner.run();
    const loss = (await session.runner.read("loss")).data[0];
    print(`step ${step}: loss ${loss.toFixed(6)} (${((performance.now() - t) / 1000).toFixed(3)} s)`);
  }
  session.runner.destroy();
}

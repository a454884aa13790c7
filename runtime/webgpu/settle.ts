// Waiting for the device without spinning a CPU core.
//
// Dawn's node binding settles its promises (mapAsync, onSubmittedWorkDone,
// createComputePipelineAsync) by ticking the device from setImmediate for as long as one is
// pending: the main thread polls at 100% of a core while the GPU works. On a hardware GPU that
// core is idle otherwise. On a software adapter it is one the "GPU" itself needs: lavapipe runs
// every workgroup on its own worker threads (one per core), and the polling main thread takes a
// third of a 2-core machine from them. Measured on this project's 2-core CI machine, config S
// at batch 32: 2.4 s a step while polling, 1.5 s with the main thread asleep (bench/RESULTS.md,
// "Waiting without polling").
//
// So on a software adapter a pending promise is waited for in turns of the event loop with a
// short sleep between them (Atomics.wait, which blocks the thread without burning it): Dawn's
// tick still runs once a turn, and everything else queued on the loop runs between sleeps.
import type { GpuContext } from "./device.js";

/** How long the main thread sleeps between event-loop turns while it waits for the device. */
export const SETTLE_SLEEP_MS = 1;

const cell = new Int32Array(new SharedArrayBuffer(4));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `p`, awaited without polling a core where the adapter computes on the CPU (Dawn's own wait elsewhere). */
export function settle<T>(ctx: GpuContext, p: Promise<T>): Promise<T> {
  return ctx.adapterInfo.isSoftware ? sleepUntilSettled(p) : p;
}

async function sleepUntilSettled<T>(p: Promise<T>): Promise<T> {
  let pending = true;
  const stop = () => {
    pending = false;
  };
  p.then(stop, stop); // a rejection is still the caller's: p is returned below
  while (pending) {
    Atomics.wait(cell, 0, 0, SETTLE_SLEEP_MS);
    await turn();
  }
  return p;
}

// Waiting for the device without spinning a CPU core.
//
// Dawn's node binding settles its promises (mapAsync, onSubmittedWorkDone,
// createComputePipelineAsync) by ticking the device from setImmediate for as long as one is
// pending: the main thread polls at 100% of a core while the GPU works. On a hardware GPU that
// core is idle otherwise. On a software adapter it is one the "GPU" itself needs: lavapipe runs
// every workgroup on its own worker threads (one per core), and the polling main thread takes a
// third of a 2-core machine from them. Measured on this project's 2-core CI machine, config S
// at batch 32: 2.6 s a step while polling, 1.6 s with the main thread asleep (bench/RESULTS.md,
// "Waiting without polling").
//
// So on a software adapter a pending promise is waited for in turns of the event loop with a
// short sleep between them (Atomics.wait, which blocks the thread without burning it): Dawn's
// tick still runs once a turn, and everything else queued on the loop runs between sleeps.
// Browsers neither poll nor allow Atomics.wait on the main thread: there (no setImmediate), and
// on hardware adapters, the promise is awaited as it is. The embedded runtime uses this too, so
// it imports nothing from Node.
//
// Not for pipeline creation: Dawn's asynchronous creation goes through several ticks per
// pipeline, and creating config S's 84 took 1.1 s this way against 0.4-0.6 s polling.

/** What isSoftwareAdapter reads of an adapter's info (GPUAdapterInfo, or unetc's summary of it). */
export interface AdapterNames {
  readonly isFallbackAdapter?: boolean;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
}

/**
 * Whether an adapter computes on the CPU: WebGPU's fallback flag (Dawn sets it for lavapipe and
 * SwiftShader), or a software driver's name where a binding leaves the flag unset.
 */
export function isSoftwareAdapter(info: AdapterNames): boolean {
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description ?? ""} ${info.device ?? ""} ${info.architecture ?? ""} ${info.vendor ?? ""}`);
}

/** How long the main thread sleeps between event-loop turns while it waits for the device. */
export const SETTLE_SLEEP_MS = 1;

interface Sleeper {
  /** A word to Atomics.wait on. */
  readonly cell: Int32Array;
  readonly setImmediate: (f: () => void) => unknown;
}

// Looked up on globalThis, not named: the embedded runtime type-checks without Node's types.
const immediate = (globalThis as { setImmediate?: Sleeper["setImmediate"] }).setImmediate;
/** Where the environment has setImmediate and shared memory (Node); undefined elsewhere. */
const sleeper: Sleeper | undefined =
  typeof immediate === "function" && typeof SharedArrayBuffer === "function" ? { cell: new Int32Array(new SharedArrayBuffer(4)), setImmediate: immediate } : undefined;

/** `p`, awaited without polling a core where the adapter computes on the CPU (`software`) and the environment can sleep. */
export function settle<T>(p: Promise<T>, software: boolean): Promise<T> {
  return software && sleeper ? sleepUntilSettled(p, sleeper) : p;
}

async function sleepUntilSettled<T>(p: Promise<T>, s: Sleeper): Promise<T> {
  let pending = true;
  const stop = () => {
    pending = false;
  };
  p.then(stop, stop); // a rejection is still the caller's: p is returned below
  while (pending) {
    Atomics.wait(s.cell, 0, 0, SETTLE_SLEEP_MS);
    await new Promise<void>((resolve) => s.setImmediate(resolve));
  }
  return p;
}

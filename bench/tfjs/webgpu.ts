// TF.js's WebGPU backend on Dawn's node binding (the `webgpu` package, as unetc uses it).
// TF.js looks for its GPU at navigator.gpu, a browser global that Node lacks (20) or has
// without `gpu` (21+), and registers its backend on import only if it is there: so Dawn's GPU is
// put there first and the backend imported after. The adapter TF.js requests is recorded so the
// bench can show it is the one unetc runs on.
import * as tf from "@tensorflow/tfjs-core";

type Dawn = { create: (options: string[]) => GPU; globals: object };

/** Dawn tears down native state when its JS wrappers are collected: keep them for the process. */
const keepAlive: object[] = [];
let ready: Promise<string> | undefined;

/** Makes TF.js's backend "webgpu" (on Dawn) the current one; resolves to a description of its adapter. */
export function useTfjsWebGpu(): Promise<string> {
  ready ??= setUp();
  return ready;
}

async function setUp(): Promise<string> {
  const dawn = (await import("webgpu")) as Dawn;
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, ... as in a browser
  const gpu = dawn.create([]);
  keepAlive.push(gpu);
  let adapter: GPUAdapter | null = null;
  const recording: Pick<GPU, "requestAdapter"> = {
    requestAdapter: async (options) => {
      adapter = await gpu.requestAdapter(options);
      if (adapter) keepAlive.push(adapter);
      return adapter;
    },
  };
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) Object.defineProperty(globalThis, "navigator", { value: { gpu: recording }, configurable: true });
  else Object.defineProperty(g.navigator, "gpu", { value: recording, configurable: true });
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("TF.js could not start its WebGPU backend on Dawn (see the warning above)");
  await tf.ready();
  if (tf.getBackend() !== "webgpu") throw new Error(`TF.js runs on '${tf.getBackend()}', not on WebGPU`);
  const info = (adapter as GPUAdapter | null)?.info;
  if (!info) return "unknown adapter";
  // the same fields, in the same order, as unetc's describeAdapter prints
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(" / ");
}

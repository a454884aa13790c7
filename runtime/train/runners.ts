// Creating graph runners on the chosen device, and moving named tensors between them.
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import { ReferenceRunner, WebGpuRunner, type DeviceKind, type GraphRunner } from "../session/runner.js";
import { acquireDevice, describeAdapter } from "../webgpu/device.js";

export async function createRunner(graph: Graph, device: DeviceKind): Promise<GraphRunner> {
  if (device === "reference") return new ReferenceRunner(graph);
  return WebGpuRunner.create(await acquireDevice(), graph);
}

/** One line naming where a run executes. */
export async function describeDevice(device: DeviceKind): Promise<string> {
  if (device === "reference") return "device: reference interpreter (CPU, one thread)";
  return describeAdapter(await acquireDevice()).split("\n")[0];
}

/** Reads named tensors (one readback each; call between steps, not inside the hot loop). */
export async function readTensors(runner: GraphRunner, names: Iterable<string>): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  for (const name of names) out.set(name, await runner.read(name));
  return out;
}

export const zeros = (shape: readonly number[]): Tensor => ({ shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

/** A float32 copy (checkpoint tensors may be F64; runners take f32). */
export function asF32(t: { shape: readonly number[]; data: ArrayLike<number> }): Tensor {
  return { shape: [...t.shape], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
}

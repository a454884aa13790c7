// Naming the device a run executes on, and moving named tensors in and out of runners (which
// runtime/session/runner.ts opens on the chosen device).
import type { Tensor } from "../../compiler/ir/tensor.js";
import { openDevice, type DeviceKind, type GraphRunner } from "../session/runner.js";
import { describeAdapter } from "../webgpu/device.js";

/** One line naming where a run executes. */
export async function describeDevice(kind: DeviceKind): Promise<string> {
  const { gpu } = await openDevice(kind);
  return gpu ? describeAdapter(gpu).split("\n")[0] : "device: reference interpreter (CPU, one thread)";
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

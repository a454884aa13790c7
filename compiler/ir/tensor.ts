// Host tensors: the data the reference interpreter and the I/O code exchange.
// Float values live in Float32Array (float32 runs) or Float64Array (gradient checks);
// i32 values always in Int32Array.

import { numel, formatShape } from "./shape.js";
import type { DType, Shape } from "./types.js";

export type FloatArray = Float32Array | Float64Array;
export type TensorData = FloatArray | Int32Array;

export interface Tensor {
  readonly shape: Shape;
  readonly data: TensorData;
}

export function dtypeOfData(data: TensorData): DType {
  return data instanceof Int32Array ? "i32" : "f32";
}

export function tensor(shape: Shape, data: TensorData | readonly number[]): Tensor {
  const arr = Array.isArray(data) ? Float64Array.from(data as readonly number[]) : (data as TensorData);
  if (arr.length !== numel(shape)) {
    throw new Error(`tensor: ${arr.length} values do not fill shape ${formatShape(shape)} (${numel(shape)} elements)`);
  }
  return { shape: [...shape], data: arr };
}

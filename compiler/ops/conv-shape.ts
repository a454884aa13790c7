// Shape arithmetic shared by the convolution family's shape rules (conv2d*.ts).

import type { ConvParams } from "../ir/kinds.js";
import type { ValueType } from "../ir/types.js";
import { check, requireDType, requireRank } from "./def.js";

export function convOutSize(size: number, k: number, { stride, padding }: ConvParams): number {
  return Math.floor((size + 2 * padding - k) / stride) + 1;
}

/**
 * The checks every conv shape rule starts with: positive integer stride, non-negative integer
 * padding, and two f32 operands of rank 4 (`names` describe them in messages).
 */
export function checkConvOperands(op: string, p: ConvParams, [a, b]: readonly ValueType[], names: readonly [string, string]): void {
  check(op, Number.isInteger(p.stride) && p.stride >= 1, () => `stride must be a positive integer, got ${p.stride}`);
  check(op, Number.isInteger(p.padding) && p.padding >= 0, () => `padding must be a non-negative integer, got ${p.padding}`);
  requireDType(op, [a, b], "f32");
  requireRank(op, names[0], a, 4);
  requireRank(op, names[1], b, 4);
}

/** Output spatial size of x * w, checked to be at least 1x1. */
export function outSpatial(op: string, x: ValueType, kh: number, kw: number, p: ConvParams): [number, number] {
  const [, , h, w] = x.shape;
  const oh = convOutSize(h, kh, p);
  const ow = convOutSize(w, kw, p);
  check(op, oh >= 1 && ow >= 1, () => `kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${p.padding}`);
  return [oh, ow];
}

// How the PyTorch-equality tests compare a tensor with its reference: max |a - b| over
// max(max |b|, floor), one number per tensor, robust to elements near zero. The floor makes
// tensors that vanish in exact arithmetic (the gradient of a bias that feeds a train-mode
// BatchNorm is ~1e-17 in PyTorch, ~1e-14 here) compare absolutely. The shapes must match.
import { expect } from "vitest";

export interface Compared {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export function relErr(a: Compared, b: Compared, floor: number): number {
  expect([...a.shape]).toEqual([...b.shape]);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(Number(a.data[i]) - Number(b.data[i])));
    scale = Math.max(scale, Math.abs(Number(b.data[i])));
  }
  return diff / Math.max(scale, floor);
}

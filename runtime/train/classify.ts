// The classifier side of training: one-hot targets for the cross-entropy step and the course's
// light augmentation (nb 14: random horizontal flips and RandomCrop with 1 pixel of padding),
// drawn from the run's seeded generator so a resumed run sees the same batches.
import type { Rng } from "../diffusion/rng.js";

/** labels [B] -> one-hot [B, K] into `out`. */
export function oneHot(labels: Int32Array, classes: number, out: Float32Array): Float32Array {
  out.fill(0);
  labels.forEach((c, i) => {
    if (c < 0 || c >= classes) throw new Error(`label ${c} is outside 0..${classes - 1}`);
    out[i * classes + c] = 1;
  });
  return out;
}

/**
 * In place on x [B, C, S, S]: each image is flipped left-right with probability 1/2, then shifted
 * by dy, dx in {-1, 0, 1} (a 1-pixel RandomCrop of the zero-padded image); uncovered pixels get
 * `fill` (the range's black).
 */
export function augmentBatch(x: Float32Array, batch: number, channels: number, size: number, fill: number, rng: Rng): void {
  const plane = size * size;
  const tmp = new Float32Array(plane);
  for (let i = 0; i < batch; i++) {
    const flip = rng.uniform() < 0.5;
    const dy = Math.floor(rng.uniform() * 3) - 1;
    const dx = Math.floor(rng.uniform() * 3) - 1;
    for (let c = 0; c < channels; c++) {
      const off = (i * channels + c) * plane;
      tmp.set(x.subarray(off, off + plane));
      for (let y = 0; y < size; y++) {
        const sy = y + dy;
        for (let xx = 0; xx < size; xx++) {
          const sx0 = xx + dx;
          const sx = flip ? size - 1 - sx0 : sx0;
          x[off + y * size + xx] = sy < 0 || sy >= size || sx0 < 0 || sx0 >= size ? fill : tmp[sy * size + sx];
        }
      }
    }
  }
}

/** Mean cross-entropy and accuracy of logits [n, K] (float64 log-sum-exp) against labels. */
export function classificationScores(logits: ArrayLike<number>, labels: ArrayLike<number>, n: number, classes: number): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let best = 0;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) {
      if (logits[row + k] > max) {
        max = logits[row + k];
        best = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[row + k] - max);
    lossSum += max + Math.log(sum) - logits[row + labels[i]];
    if (best === labels[i]) correct++;
  }
  return { lossSum, correct };
}

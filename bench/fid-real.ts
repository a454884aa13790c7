// FID/KID of real images against the test-set reference, as the course's sanity numbers
// (20_DDIM: a real 2048-image train batch gave FID 1.91, KID 0.0045 with its classifier):
// 2048 training images, the same with Gaussian noise, and at 16x16 (the CPU preset's size).
//   npx tsx bench/fid-real.ts [--device reference|webgpu]
import { iterateBatches } from "../runtime/data/batches.js";
import { loadFashionMnist, splitFashionMnist } from "../runtime/data/fashion-mnist.js";
import { Rng } from "../runtime/diffusion/rng.js";
import { FeatureExtractor } from "../runtime/metrics/classifier.js";
import { imageQuality } from "../runtime/metrics/evaluate-run.js";
import { fashionFit } from "../runtime/metrics/reference.js";
import type { DeviceKind } from "../runtime/session/runner.js";
import { avgPool, CLASSIFIER_RANGE } from "../runtime/train/data.js";

const device = (process.argv.includes("--device") ? process.argv[process.argv.indexOf("--device") + 1] : "reference") as DeviceKind;
const N = 2048;
const fx = await FeatureExtractor.load({ device });
const { dataset } = await loadFashionMnist({});
const train = splitFashionMnist(dataset).train;
for (const size of [32, 16]) {
  const { pad, pool } = fashionFit(size);
  const b = iterateBatches(train, { batchSize: N, seed: 0, epoch: 0, pad, range: CLASSIFIER_RANGE }).next().value!;
  const real = avgPool(b.x, N, 1, size, pool, new Float32Array(N * size * size));
  const rng = new Rng(1);
  for (const std of [0, 0.1, 0.3]) {
    const x = real.map((v) => v + std * rng.normal());
    const q = await imageQuality(fx, x, N, 1, size, { onInfo: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`${size}x${size}, ${N} train images + noise std ${std}: FID ${q.fid.toFixed(3)}, KID ${q.kid.toFixed(5)}\n`);
  }
}
fx.destroy();

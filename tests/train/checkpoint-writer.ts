// A process that writes a large checkpoint over and over (step 1, 2, ...) to the path it is
// given, for tests that kill it mid-write: `node --import tsx tests/train/checkpoint-writer.ts PATH`.
import { writeCheckpoint, type CheckpointMeta } from "../../runtime/train/checkpoint.js";
import { oneCycleState } from "../../runtime/train/onecycle.js";
import { config, SPEC } from "./support.js";

const path = process.argv[2];
const w = new Float32Array(16 * 1024 * 1024); // 64 MB: a write takes long enough to be killed in
for (let step = 1; ; step++) {
  w.fill(step);
  const meta: CheckpointMeta = {
    spec: { path: SPEC, source: "", sha256: "", sourcesSha256: "", model: "m", overrides: [] },
    config: config(),
    position: { step, epoch: 0, batchInEpoch: step, rngState: 0, epochLossSum: 0, epochLossSteps: 0 },
    schedule: oneCycleState({ maxLr: 0.01, totalSteps: 1000 }),
    classNames: ["a", "b"],
    modelConfig: {},
    device: "reference",
  };
  await writeCheckpoint(path, new Map([["w", { shape: [w.length], data: w }]]), meta);
  process.stdout.write(`wrote ${step}\n`);
}

#!/usr/bin/env bash
# The README's main job: build, then train the lesson's default model on the GPU if there is one,
# or the CPU preset (a small spec on a data subset, ~4 minutes on 2 cores) if there is none,
# and write a sample grid.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
UNETC="node dist/cli/main.js"
hardware=$(node --input-type=module -e '
  import { acquireDevice } from "./dist/runtime/webgpu/device.js";
  try { const g = await acquireDevice(); console.log(g.adapterInfo.isSoftware ? "no" : "yes"); } catch { console.log("no"); }
  process.exit(0);' 2>/dev/null | tail -1)
if [ "$hardware" = "yes" ]; then
  echo "main: a GPU adapter was found: training the lesson's model (models/lesson/emb_unet.unet, 25 epochs, batch 512)"
  $UNETC train models/lesson/emb_unet.unet --out runs/main
  $UNETC sample runs/main --out runs/main/samples.png
else
  echo "main: no GPU adapter found: training the CPU preset (models/lesson/cpu_unet.unet on a subset, about 4 minutes on 2 cores)"
  $UNETC train --preset cpu --out runs/cpu
  $UNETC sample runs/cpu --steps 25
  echo "main: sample grid in runs/cpu/samples.png"
fi

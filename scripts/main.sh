#!/usr/bin/env bash
# The README's main job: build, then train the lesson's default model on the GPU if there is one,
# or the CPU preset (a small spec on a data subset) if there is none: on WebGPU through a
# software adapter (lavapipe) where there is one, the product's real path and several times faster
# than the reference interpreter on 2 cores (bench/RESULTS.md); on the interpreter where no adapter exists at all.
# Then write a sample grid.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
UNETC="node dist/cli/main.js"
adapter=$(node --input-type=module -e '
  import { acquireDevice } from "./dist/runtime/webgpu/device.js";
  try { const g = await acquireDevice(); console.log(g.adapterInfo.isSoftware ? "software" : "hardware"); } catch { console.log("none"); }
  process.exit(0);' 2>/dev/null | tail -1)
if [ "$adapter" = "hardware" ]; then
  echo "main: a GPU adapter was found: training the lesson's model (models/lesson/emb_unet.unet, 25 epochs, batch 512)"
  $UNETC train models/lesson/emb_unet.unet --out runs/main
  $UNETC sample runs/main --out runs/main/samples.png
else
  if [ "$adapter" = "software" ]; then device=webgpu; else device=reference; fi
  echo "main: no GPU adapter found: training the CPU preset (models/lesson/cpu_unet.unet on a subset, about 2 minutes on 2 cores) on the $device device"
  $UNETC train --preset cpu --device $device --out runs/cpu
  $UNETC sample runs/cpu --steps 25 --device $device
  echo "main: sample grid in runs/cpu/samples.png"
fi

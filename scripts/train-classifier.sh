#!/usr/bin/env bash
# Trains the Fashion-MNIST classifier behind FID/KID (models/metrics/fmnist_classifier.unet) with
# unetc itself and writes its weights to models/metrics/fmnist_classifier.safetensors (committed,
# so FID means the same on every machine). The committed weights came from exactly these two
# stages on the reference interpreter (4 epochs at OneCycle max lr 1e-2: 91.09% held-out; one
# more epoch from those weights at max lr 1e-3: 91.45%), about 1.5 hours on a 2-core CPU.
#   bash scripts/train-classifier.sh [other unetc train flags, e.g. --device webgpu]
set -euo pipefail
cd "$(dirname "$0")/.."
base=runs/fmnist_classifier
tuned=runs/fmnist_classifier-tuned
npm run -s unetc -- train models/metrics/fmnist_classifier.unet --device reference --epochs 4 --batch 128 --lr 1e-2 --out "$base" "$@"
npm run -s unetc -- train models/metrics/fmnist_classifier.unet --device reference --epochs 1 --batch 128 --lr 1e-3 --init "$base" --out "$tuned" "$@"
npx tsx scripts/export-classifier.ts "$tuned"

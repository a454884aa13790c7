#!/usr/bin/env bash
# Trains the Fashion-MNIST classifier behind FID/KID (models/metrics/fmnist_classifier.unet) with
# unetc itself and writes its weights to models/metrics/fmnist_classifier.safetensors (committed,
# so FID means the same on every machine). About 1.5 hours on a 2-core CPU; minutes on a GPU:
#   bash scripts/train-classifier.sh [--device webgpu] [other unetc train flags]
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/fmnist_classifier
npm run -s unetc -- train models/metrics/fmnist_classifier.unet --device reference --epochs 4 --batch 128 --lr 1e-2 --out "$run" "$@"
npx tsx scripts/export-classifier.ts "$run"

#!/usr/bin/env bash
# Trains the Fashion-MNIST classifier behind FID/KID (models/metrics/fmnist_classifier.unet) with
# unetc itself and writes its weights to models/metrics/fmnist_classifier.safetensors (committed,
# so FID means the same on every machine). The committed weights came from exactly this run on
# the reference interpreter: 12 epochs at OneCycle max lr 1e-2 with the course's augmentation
# (random flips and 1-pixel shifts), 92.28% held-out, 84 minutes on one core of a 2-core
# CPU. Without augmentation the model overfits: 4 epochs gave 91.09%, and fine-tuning those
# weights for 1 + 4 more epochs 91.60%.
#   bash scripts/train-classifier.sh [other unetc train flags, e.g. --device webgpu]
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/fmnist_classifier
npm run -s unetc -- train models/metrics/fmnist_classifier.unet --device reference --epochs 12 --batch 128 --lr 1e-2 --augment --out "$run" "$@"
npx tsx scripts/export-classifier.ts "$run"

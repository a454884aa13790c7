#!/usr/bin/env bash
# Makes a Vulkan driver available to Dawn on Debian 12 when there is none: Mesa's lavapipe
# (software Vulkan) from bookworm-backports. Debian 12's own Mesa (22.x) is too old for Dawn.
# Does nothing when a Vulkan ICD is already installed (a GPU driver, or lavapipe from before).
set -euo pipefail
have_icd() { ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | grep -q .; }
if have_icd && ldconfig -p | grep -q libvulkan.so.1; then
  echo "setup-vulkan: a Vulkan driver is already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "setup-vulkan: installed $(dpkg-query -W -f='${Package} ${Version}' mesa-vulkan-drivers)"

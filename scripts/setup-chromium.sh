#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/browser: the ablation report and the
# grammar diagram opened offline through playwright-core). Playwright's own browser download is
# not used: Debian's package comes from the same mirror as everything else and needs no network
# at test time. Does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "setup-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) is already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "setup-chromium: installed $(dpkg-query -W -f='${Package} ${Version}' chromium)"

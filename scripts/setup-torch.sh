#!/usr/bin/env bash
# Installs Debian's PyTorch (python3-torch, 1.13, CPU) for the interop tests (tests/export: the
# exported PyTorch module against the reference interpreter and a torchrun DDP run; tests/interop:
# state_dict round trips through torch). Debian's package, not pip's: this machine reaches the
# npm registry and Debian's mirror only. The tests run it as /usr/bin/python3. Does nothing when
# that python already imports torch.
set -euo pipefail
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  echo "setup-torch: torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') is already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
echo "setup-torch: installed $(dpkg-query -W -f='${Package} ${Version}' python3-torch)"

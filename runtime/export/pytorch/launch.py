"""`torchrun`, for torch < 2.0 on Python >= 3.11 (Debian 12's python3-torch 1.13).

    python3 launch.py --nproc_per_node 2 train.py --out runs/model

takes exactly torchrun's arguments. On those versions torchrun itself fails before starting a
worker (`'NoneType' object has no attribute 'get'`): Python 3.11 no longer lists a zero-valued
IntFlag member when iterating, and torch 1.13 parses `--redirects 0` / `--tee 0` that way. This
replaces that parser and runs torchrun. Elsewhere, use `torchrun` (or `python3 -m torch.distributed.run`).
"""

import re

from torch.distributed.elastic.multiprocessing import api


def _std_from_str(cls, vm):
    if re.fullmatch(r"\d", vm):
        return cls(int(vm))
    return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}


api.Std.from_str = classmethod(_std_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main

    main()

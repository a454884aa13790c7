"""PyTorch's side of the interop tests (tests/interop/*.test.ts run it with Debian's python3-torch).

  torch_state_dict.py JOBS_JSON

JOBS_JSON is a list of jobs {"config", "in", "out", "dtype"?, "drop_counters"?}, run in one
process (importing torch takes seconds). Each builds the course's model
(tests/reference/lesson_models.py) from its config, loads "in" (a safetensors state_dict) with
load_state_dict(strict=True), and writes the model's own state_dict() back to "out": F32 with
tests/reference/safetensors_io.py's writer; F16/BF16 (floats only; counters stay I64) with the
small writer below, since numpy has no bfloat16. "drop_counters" leaves out every
num_batches_tracked (as many saved state_dicts do). Prints one JSON line per job: the tensor
count and the loaded counters' sum.
"""

import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import lesson_models  # noqa: E402
import safetensors_io  # noqa: E402


def save_torch(path, tensors):
    """safetensors with torch's own dtypes (F32, F16, BF16, I64), tensors in the given order."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    header, blobs, pos = {}, [], 0
    for name, t in tensors:
        t = t.detach().contiguous()
        # bfloat16 has no numpy type: its bits, as int16, are the bytes to write.
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def run(job):
    model = lesson_models.build_model(job["config"])
    arrays, _meta, _order = safetensors_io.load(job["in"])
    state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}
    model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
    sd = model.state_dict()
    keep = [(k, v) for k, v in sd.items() if not (job.get("drop_counters") and k.endswith("num_batches_tracked"))]
    dtype = job.get("dtype", "F32")
    if dtype == "F32":
        safetensors_io.save(job["out"], [(k, v.numpy()) for k, v in keep])
    else:
        half = torch.float16 if dtype == "F16" else torch.bfloat16
        save_torch(job["out"], [(k, v.to(half) if v.is_floating_point() else v) for k, v in keep])
    counters = sum(int(v) for k, v in sd.items() if k.endswith("num_batches_tracked"))
    return {"tensors": len(sd), "counters": counters}


def main(argv):
    if len(argv) != 1:
        raise SystemExit(__doc__)
    for job in json.loads(argv[0]):
        print(json.dumps(run(job)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

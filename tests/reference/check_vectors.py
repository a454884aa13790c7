"""Re-check vectors/*.safetensors against lesson_models.py, the way a port would.

For each file: read it with safetensors_io, rebuild the model from the "config" metadata,
load the stored initial state_dict, recompute eval.output, train.output, train.loss, grad.*,
train.* (buffers) and step.* in float64 and in float32, and report the largest absolute
difference per group. The float64 recomputation must reproduce the file to float32 rounding;
the float32 column shows how far an ordinary float32 implementation (PyTorch CPU) lands, a
guide for the tolerances of the TypeScript tests.

Usage: /usr/bin/python3 tests/reference/check_vectors.py [file.safetensors ...]
"""

import glob
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from lesson_models import build_model  # noqa: E402


def recompute(config, stored, dtype):
    model = build_model(config)
    sd = model.state_dict()
    model.load_state_dict({k: torch.from_numpy(stored[k].copy()) for k in sd})
    model = model.to(dtype)
    x = torch.from_numpy(stored["x"].copy()).to(dtype)
    target = torch.from_numpy(stored["target"].copy()).to(dtype)
    if config["kind"] == "emb":
        t = torch.from_numpy(stored["t"].copy()).to(dtype)
        inp = (x, t, torch.from_numpy(stored["c"].copy())) if config.get("n_classes") else (x, t)
    else:
        inp = (x,)
    out = {}
    model.eval()
    with torch.no_grad():
        out["eval.output"] = model(inp)
    model.train()
    y = model(inp)
    loss = F.mse_loss(y, target)
    out["train.output"] = y.detach()
    out["train.loss"] = loss.detach()
    for k, v in model.named_buffers():
        out[f"train.{k}"] = v.detach().clone()
    loss.backward()
    params = dict(model.named_parameters())
    for k, p in params.items():
        out[f"grad.{k}"] = p.grad.detach().clone()
    opt_cfg = json.loads(stored["__meta__"]["optimizer"])
    torch.optim.Adam(params.values(), lr=opt_cfg["lr"], betas=tuple(opt_cfg["betas"]), eps=opt_cfg["eps"],
                     weight_decay=opt_cfg["weight_decay"]).step()
    for k, p in params.items():
        out[f"step.{k}"] = p.detach().clone()
    return out


def group(name):
    if name.startswith(("grad.", "step.")):
        return name.split(".", 1)[0] + ".*"
    if name.startswith("train.") and name not in ("train.output", "train.loss", "train.emb"):
        return "train.<buffers>"
    return name


def check(path):
    stored, meta, _ = safetensors_io.load(path)
    if meta.get("format_version") != "1":
        raise SystemExit(f"{path}: format_version {meta.get('format_version')!r}, expected '1'")
    config = json.loads(meta["config"])
    stored["__meta__"] = meta
    worst = {}
    for dtype in (torch.float64, torch.float32):
        for k, v in recompute(config, stored, dtype).items():
            ref = stored[k]
            diff = float(np.abs(v.double().numpy() - ref.astype(np.float64)).max()) if v.numel() else 0.0
            g = group(k)
            worst.setdefault(g, [0.0, 0.0])
            worst[g][0 if dtype == torch.float64 else 1] = max(worst[g][0 if dtype == torch.float64 else 1], diff)
    print(os.path.basename(path))
    ok = True
    for g, (d64, d32) in worst.items():
        scale = max(float(np.abs(stored[k]).max()) for k in stored if k != "__meta__" and group(k) == g)
        flag = ""
        if d64 > 1e-6 * max(1.0, scale):
            flag, ok = "  <-- float64 recomputation does not reproduce the file", False
        print(f"  {g:18s} max|ref| {scale:10.4g}   float64 diff {d64:9.2e}   float32 diff {d32:9.2e}{flag}")
    return ok


def main(argv):
    paths = argv or sorted(glob.glob(os.path.join(HERE, "vectors", "*.safetensors")))
    results = [check(p) for p in paths]
    if not all(results):
        raise SystemExit("some vectors do not match lesson_models.py: regenerate with make_vectors.py")
    print("all vectors reproduce")


if __name__ == "__main__":
    main(sys.argv[1:])

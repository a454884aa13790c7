"""The PyTorch side of tests/export/equality.test.ts: for each exported case, in float64, the module's
eval forward, train forward, loss, gradients, BatchNorm buffers after the train forward and one
AdamW step, written to the case's torch.safetensors for the test to compare with unetc's reference
interpreter.

    /usr/bin/python3 tests/export/torch_check.py MANIFEST.json

The manifest lists cases: {"dir": the export folder (model.py, unetc_io.py), "weights", "inputs",
"out": file paths, "task": "denoise" | "classify", "adamw": {lr, betas, eps, weight_decay}}.
"""

import importlib.util
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def run_case(k, case):
    io = load(f"unetc_io_{k}", f"{case['dir']}/unetc_io.py")
    exported = load(f"model_{k}", f"{case['dir']}/model.py")
    torch.manual_seed(0)
    net = exported.build_model().double()
    net.load_state_dict(io.load_state_dict(case["weights"], dtype=torch.float64), strict=True)
    raw, _ = io.read_safetensors(case["inputs"])
    feeds = {}
    for i in exported.INPUTS:
        a = torch.from_numpy(np.array(raw[i["name"]]))
        feeds[i["arg"]] = a.long() if i["kind"] == "label" else a.double()
    out = {}
    net.eval()
    with torch.no_grad():
        out["eval.output"] = net(**feeds)
    net.train()
    pred = net(**feeds)
    if case["task"] == "classify":
        loss = F.cross_entropy(pred, torch.from_numpy(np.array(raw["labels"])).long())
    else:
        loss = F.mse_loss(pred, torch.from_numpy(np.array(raw["target"])).double())
    loss.backward()
    out["train.output"] = pred.detach()
    out["loss"] = loss.detach()
    for n, p in net.named_parameters():
        out[f"grad.{n}"] = p.grad.detach().clone()
    for n, b in net.named_buffers():
        out[f"new.{n}"] = b.detach().clone().double()
    o = case["adamw"]
    opt = torch.optim.AdamW(net.parameters(), lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weight_decay"])
    opt.step()
    for n, p in net.named_parameters():
        out[f"new.{n}"] = p.detach().clone()
    order = [n for n, _ in net.state_dict().items()]
    io.write_safetensors(case["out"], [(n, t.double()) for n, t in out.items()], {"state_dict": json.dumps(order)})


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    torch.set_num_threads(2)
    for k, case in enumerate(cases):
        run_case(k, case)
        print(f"ok {case['dir']}", flush=True)


if __name__ == "__main__":
    main()

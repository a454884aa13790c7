"""Write tests/reference/vectors/<config>.safetensors: reference values for one training step.

For each config in configs.VECTOR_CONFIGS:
  1. torch.manual_seed(seed); build the model (PyTorch default init, float32); perturb every
     BatchNorm (weight, bias, running_mean, running_var) and LayerNorm (weight, bias) away from
     their 1/0 defaults; draw inputs x [B,1,H,W] ~ N(0,1), t [B] ~ U[0, 0.999), c [B] in
     [0, n_classes) (conditional configs), target [B,1,H,W] ~ N(0,1).
  2. Convert the model and inputs to float64 (exactly) and compute everything in float64:
       eval.output         model.eval() forward (no state change)
       train.output        model.train() forward (updates BatchNorm running stats)
       train.loss          MSE(train.output, target), mean over all elements, shape []
       grad.<param>        d train.loss / d param
       train.<buffer>      every BatchNorm buffer after that one train forward
                           (momentum 0.1, running_var uses the unbiased batch variance,
                           num_batches_tracked incremented from 0 to 1)
       step.<param>        every parameter after one torch.optim.Adam step
                           (lr=1e-3, betas=(0.9, 0.999), eps=1e-5, weight_decay=0)
     Extras for debugging: temb (sinusoidal embedding of t, [B, nfs[0]]), eval.emb and
     train.emb (time MLP output plus class embedding, [B, 4*nfs[0]]) for "emb" models.
  3. Store everything as float32 (the initial state_dict entries under their own names are
     float32 already; num_batches_tracked is I64; c is I32).

The state_dict names are checked against state_dicts.json, which this script rewrites
(via dump_state_dicts) so both stay consistent.

Usage: /usr/bin/python3 tests/reference/make_vectors.py [config ...]
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import configs  # noqa: E402
import dump_state_dicts  # noqa: E402
import safetensors_io  # noqa: E402
from lesson_models import build_model, timestep_embedding  # noqa: E402

FORMAT_VERSION = "1"
GENERATOR = "tests/reference/make_vectors.py"
OUT_DIR = os.path.join(HERE, "vectors")
ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-5, weight_decay=0.0)


def perturb_norms(model):
    """Move norm affine params and running stats off their defaults, in float32."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(1.0 + 0.25 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.2 * torch.randn_like(m.running_mean))
                m.running_var.copy_(torch.empty_like(m.running_var).uniform_(0.5, 2.0))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1.0 + 0.25 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))


def f32(t):
    return t.detach().to(torch.float32).cpu().numpy()


def make(name, config):
    torch.manual_seed(config["seed"])
    model = build_model(config)
    perturb_norms(model)
    b, hw = config["batch"], config["image_size"]
    x = torch.randn(b, config["in_channels"], hw, hw)
    t = torch.rand(b) * 0.999
    n_classes = config.get("n_classes")
    c = torch.randint(0, n_classes, (b,), dtype=torch.int32) if n_classes else None
    target = torch.randn(b, config["out_channels"], hw, hw)

    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())

    expected = dump_state_dicts.layout(config)["entries"]
    got = [[k, list(v.shape), "param" if k in params else "buffer"] for k, v in init.items()]
    assert got == expected, f"{name}: state_dict differs from dump_state_dicts.layout"

    model = model.double()
    is_emb = config["kind"] == "emb"
    x64, t64, target64 = x.double(), t.double(), target.double()
    inp = (x64, t64, c) if n_classes else (x64, t64)

    captured = {}
    if is_emb:
        model.emb_mlp.register_forward_hook(lambda mod, args, out: captured.__setitem__("mlp", out.detach()))

    def emb_value():
        e = captured["mlp"]
        if n_classes:
            e = e + model.cond_emb(c.long()).detach()
        return e

    model.eval()
    with torch.no_grad():
        eval_out = model(inp)
    eval_emb = emb_value() if is_emb else None
    for k, v in model.state_dict().items():
        assert torch.equal(v.to(init[k].dtype), init[k]), f"eval forward changed {k}"

    model.train()
    train_out = model(inp)
    train_emb = emb_value() if is_emb else None
    loss = F.mse_loss(train_out, target64)
    train_buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    opt = torch.optim.Adam(model.parameters(), **ADAM)
    opt.step()
    stepped = {k: p.detach().clone() for k, p in model.named_parameters()}

    tensors = [(k, v.cpu().numpy()) for k, v in init.items()]
    tensors.append(("x", x.numpy()))
    if config["kind"] == "emb":
        tensors.append(("t", t.numpy()))
    if c is not None:
        tensors.append(("c", c.numpy()))
    tensors.append(("target", target.numpy()))
    if is_emb:
        tensors.append(("temb", f32(timestep_embedding(t64, config["nfs"][0]))))
        tensors.append(("eval.emb", f32(eval_emb)))
    tensors.append(("eval.output", f32(eval_out)))
    if is_emb:
        tensors.append(("train.emb", f32(train_emb)))
    tensors.append(("train.output", f32(train_out)))
    tensors.append(("train.loss", f32(loss.reshape(()))))
    for k in params:
        tensors.append((f"grad.{k}", f32(grads[k])))
    for k in buffers:
        v = train_buffers[k]
        tensors.append((f"train.{k}", v.numpy() if not v.is_floating_point() else f32(v)))
    for k in params:
        tensors.append((f"step.{k}", f32(stepped[k])))

    metadata = {
        "format_version": FORMAT_VERSION,
        "config": json.dumps(config, sort_keys=True),
        "generator": GENERATOR,
        "torch": torch.__version__,
        "precision": "float64 compute from float32 weights and inputs; stored as float32",
        "num_parameters": str(sum(p.numel() for p in params.values())),
        "loss": "mse_mean",
        "optimizer": json.dumps({"name": "adam", **ADAM}),
    }
    path = os.path.join(OUT_DIR, f"{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)

    back, meta, order = safetensors_io.load(path)
    assert order == [k for k, _ in tensors] and meta == metadata
    for k, v in tensors:
        assert back[k].dtype == safetensors_io.DTYPES[safetensors_io._dtype_name(v)] and np.array_equal(back[k], v), k

    stats = {
        "eval.output": float(np.abs(eval_out.detach().numpy()).max()),
        "train.output": float(np.abs(train_out.detach().numpy()).max()),
        "train.loss": float(loss),
        "max|grad|": max(float(g.abs().max()) for g in grads.values()),
        "max|step-init|": max(float((stepped[k] - init[k].double()).abs().max()) for k in params),
    }
    return path, stats, len(tensors)


def main(argv):
    names = argv or list(configs.VECTOR_CONFIGS)
    unknown = [n for n in names if n not in configs.VECTOR_CONFIGS]
    if unknown:
        sys.exit(f"unknown config(s): {', '.join(unknown)}; known: {', '.join(configs.VECTOR_CONFIGS)}")
    os.makedirs(OUT_DIR, exist_ok=True)
    dump_state_dicts.write()
    total = 0
    for name in names:
        path, stats, count = make(name, configs.VECTOR_CONFIGS[name])
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {size:,} bytes, {count} tensors; "
              + ", ".join(f"{k} {v:.6g}" for k, v in stats.items()))
    print(f"total {total:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])

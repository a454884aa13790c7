"""PyTorch baseline for `npm run bench` on a GPU machine: the course's EmbUNetModel (from
tests/reference/lesson_models.py) trained one step at a time (MSE, Adam eps 1e-5) on random data,
timed with CUDA synchronisation. Prints one JSON line.

usage: python3 bench/torch_step.py --batch 512 --steps 20 [--attn 8] [--amp] [--nfs 32,64,128,256]
"""
import argparse, json, os, statistics, sys, time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from lesson_models import build_model  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=512)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--attn", type=int, default=8)
p.add_argument("--nfs", default="32,64,128,256")
p.add_argument("--layers", type=int, default=2)
p.add_argument("--amp", action="store_true", help="fp16 autocast + GradScaler, as the course trained")
p.add_argument("--compile", action="store_true", help="torch.compile the model")
a = p.parse_args()

dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False  # fp32 like unetc's kernels
torch.backends.cudnn.allow_tf32 = False
cfg = {"kind": "emb", "in_channels": 1, "out_channels": 1, "nfs": [int(x) for x in a.nfs.split(",")], "num_layers": a.layers, "attn_chans": a.attn, "attn_start": 1}
model = build_model(cfg).to(dev).train()
if a.compile:
    model = torch.compile(model)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-5)
scaler = torch.cuda.amp.GradScaler(enabled=a.amp)
x = torch.randn(a.batch, 1, 32, 32, device=dev)
t = torch.rand(a.batch, device=dev) * 0.999
y = torch.randn(a.batch, 1, 32, 32, device=dev)

def step():
    opt.zero_grad(set_to_none=True)
    with torch.autocast(dev, dtype=torch.float16, enabled=a.amp):
        loss = torch.nn.functional.mse_loss(model((x, t)), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return loss

times = []
for i in range(a.steps + 3):
    if dev == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = step()
    if dev == "cuda":
        torch.cuda.synchronize()
    times.append((time.perf_counter() - t0) * 1000)
med = statistics.median(times[3:])
print(json.dumps({"framework": f"torch {torch.__version__}", "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "batch": a.batch, "amp": a.amp, "compile": a.compile, "ms_per_step": med, "images_per_s": a.batch * 1000 / med, "loss": float(loss)}))

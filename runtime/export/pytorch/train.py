"""Train the exported model with `unetc train`'s recipe, on one process or many (torchrun).

    torchrun --nproc_per_node 8 train.py --out runs/my_model            # one machine, 8 GPUs
    python3 train.py --out runs/my_model --epochs 1                     # one process (GPU or CPU)

The recipe is unetc's (runtime/train, runtime/diffusion): Fashion-MNIST (or the data given) padded
to the model's size and scaled to the schedule's range, the same epoch order and the same noise for
a seed (unetc's generator, drawn for the whole global batch on every process), cosine noise (predict
the noise, MSE) or Karras (preconditioned target), Adam or AdamW with PyTorch's formulas, OneCycle
(max lr, pct_start 0.3, beta1 0.95 -> 0.85 -> 0.95) stepped once per batch, an optional EMA with
diffusers' warm-up, eval loss on the held-out split after every epoch. A classifier is fitted with
cross-entropy (--augment: flips and 1-pixel shifts). `--batch` is the global batch: each of the N
processes takes B / N of it. On CUDA, BatchNorm statistics are synchronised across processes
(SyncBatchNorm), so they are over the global batch as in unetc; on CPU each process normalises
over its own part. --fsdp shards parameters with FullyShardedDataParallel (torch >= 2.1).

The run folder gets what `unetc train` writes: checkpoint.safetensors (every epoch, and on SIGINT /
SIGTERM after the current step, atomically and sealed), metrics.jsonl and config.json, so
`unetc sample RUN`, `unetc eval RUN`, `unetc train --resume RUN` and `python3 train.py --resume RUN`
all take it. Data: `--data` is unetc's dataset cache (data.bin, written by `unetc export --data`),
or a .npz / .safetensors file with `images` uint8 [N, (C,) H, W] and `labels` [N] (optionally
`test_images`, `test_labels`; otherwise the last 10% of each class is held out).
"""

import argparse
import json
import os
import queue
import signal
import sys
import threading
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import model as exported  # noqa: E402
import unetc_io as uio  # noqa: E402

NOISE_SEED_TAG = 0x6E6F6973  # "nois": unetc's noise generator seed is mix_seed(seed, tag)
EVAL_SEED_TAG = 0x6576616C  # "eval"
DEFAULT_EMA = 0.999


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="the run folder (created; must not hold a checkpoint already)")
    p.add_argument("--resume", help="continue the run in this folder where it stopped (its stored recipe)")
    p.add_argument("--data", help="dataset file (default: data.bin next to this script)")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--batch", type=int, default=512, help="global batch size (divided among the processes)")
    p.add_argument("--lr", type=float, default=1e-2, help="OneCycle's maximum learning rate")
    p.add_argument("--schedule", choices=["cosine", "karras"], default="cosine")
    p.add_argument("--optimizer", choices=["adam", "adamw"], default="adam")
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--ema", nargs="?", type=float, const=DEFAULT_EMA, default=None, help="keep an EMA of the weights (decay, default 0.999)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--subset", type=int, help="train on the first K images of each class")
    p.add_argument("--eval-subset", type=int, help="evaluate on the first K held-out images of each class")
    p.add_argument("--augment", action="store_true", help="classifiers: random flips and 1-pixel shifts")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--max-steps", type=int, help="stop after this many steps of this invocation (with a checkpoint)")
    p.add_argument("--fsdp", action="store_true", help="FullyShardedDataParallel instead of DistributedDataParallel")
    p.add_argument("--no-sync-bn", action="store_true", help="per-process BatchNorm statistics even on CUDA")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even where CUDA is available")
    a = p.parse_args(argv)
    if not a.out and not a.resume:
        p.error("give --out DIR (a fresh run) or --resume RUN")
    return a


class Dist:
    """Where this process is: rank, world size, device; a no-op outside torchrun."""

    def __init__(self, cpu):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and not cpu
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group("nccl" if cuda else "gloo")
        self.main = self.rank == 0

    def sum(self, values):
        """Sums floats over the processes."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def say(self, text):
        if self.main:
            print(text, file=sys.stderr, flush=True)

    def close(self):
        if self.world > 1:
            dist.destroy_process_group()


class Stop:
    """SIGINT / SIGTERM: finish the step, write a checkpoint, exit 130 / 143 (as unetc train)."""

    def __init__(self):
        self.signal = None
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, self._handle)

    def _handle(self, signum, _frame):
        if self.signal is not None:
            sys.exit(128 + signum)
        self.signal = signum


def onecycle_state(max_lr, total):
    return {"kind": "onecycle", "maxLr": max_lr, "totalSteps": total, "pctStart": 0.3, "divFactor": 25, "finalDivFactor": 1e4,
            "baseMomentum": 0.85, "maxMomentum": 0.95, "anneal": "cos"}


def recipe_config(a, source):
    """The run's train_config as unetc stores it (TrainConfig in runtime/train/checkpoint.ts)."""
    c = {"data": "fashion-mnist" if source.startswith("fashion-mnist") else source}
    if a.subset is not None:
        c["subset"] = a.subset
    if a.eval_subset is not None:
        c["evalSubset"] = a.eval_subset
    c.update({"epochs": a.epochs, "batch": a.batch, "lr": a.lr, "schedule": a.schedule, "optimizer": a.optimizer, "eps": a.eps,
              "beta2": a.beta2, "weightDecay": a.weight_decay})
    if a.ema is not None:
        c["ema"] = a.ema
    c["seed"] = a.seed
    if a.augment:
        c["augment"] = True
    return c


def load_data(path, config):
    ds, test = uio.read_dataset(path)
    if test is None:
        ds, test = uio.split(ds)
    config = config(ds.source) if callable(config) else config
    if config.get("subset"):
        ds = uio.subset_per_class(ds, config["subset"])
    if config.get("evalSubset") and test.count:
        test = uio.subset_per_class(test, config["evalSubset"])
    return ds, test, config


def build(d, a, resume_tensors):
    torch.manual_seed(a.seed)  # every process starts from the same weights (DDP broadcasts rank 0's anyway)
    net = exported.build_model()
    if resume_tensors is not None:
        sd = {k: torch.from_numpy(np.array(v)) for k, v in resume_tensors.items() if not k.startswith(("adam.", "ema."))}
        sd = {k: v.to(torch.int64) if k.endswith("num_batches_tracked") else v.float() for k, v in sd.items()}
        net.load_state_dict(sd, strict=True)
    net.to(d.device)
    if d.world > 1 and d.device.type == "cuda" and not a.no_sync_bn:
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    elif d.world > 1 and any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules()):
        d.say("note: BatchNorm statistics are per process here (SyncBatchNorm needs CUDA)")
    if a.fsdp:
        import functools

        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

        # Submodules of 100k parameters or more are sharded units of their own (gathered one at a time).
        policy = functools.partial(size_based_auto_wrap_policy, min_num_params=100_000)
        wrapped = FSDP(net, auto_wrap_policy=policy, device_id=d.device if d.device.type == "cuda" else None, use_orig_params=True)
    elif d.world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(net, device_ids=[d.device] if d.device.type == "cuda" else None)
    else:
        wrapped = net
    return net, wrapped


class Ema:
    """ema = d * ema + (1 - d) * x after each update, d = min(decay, k / (9 + k)) at update k, over every
    parameter and float buffer but the BatchNorm counters (unetc's emaTargets), from the initial weights.
    Kept on the tensors the wrapper owns (shards under FSDP), swapped in to write a checkpoint."""

    def __init__(self, wrapped, decay, stored=None):
        self.decay = decay
        self.live = [p for p in wrapped.parameters()] + [b for n, b in wrapped.named_buffers() if b.is_floating_point() and not n.endswith("num_batches_tracked")]
        self.avg = [t.detach().clone() for t in self.live]
        self.stored = stored

    @torch.no_grad()
    def update(self, k):
        d = min(self.decay, k / (9 + k))
        for a, x in zip(self.avg, self.live):
            a.mul_(d).add_(x.detach(), alpha=1 - d)

    @torch.no_grad()
    def swap(self):
        for a, x in zip(self.avg, self.live):
            tmp = x.detach().clone()
            x.copy_(a)
            a.copy_(tmp)


def full_state(net, wrapped, a):
    """The whole model's state_dict on the CPU (gathered under FSDP; every process must call it)."""
    if a.fsdp:
        from torch.distributed.fsdp import FullStateDictConfig, StateDictType
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
            return wrapped.state_dict()
    # clone: on the CPU .cpu() is the live tensor itself, which the EMA swap then changes
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def adam_state(net, wrapped, opt, a):
    """Adam's moments by parameter name (zeros before the first step)."""
    if a.fsdp:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        osd = FSDP.optim_state_dict(wrapped, opt)
        return {name: (s["exp_avg"].cpu(), s["exp_avg_sq"].cpu()) for name, s in osd["state"].items()}
    out = {}
    for name, p in net.named_parameters():
        s = opt.state.get(p, {})
        z = torch.zeros_like(p, device="cpu")
        out[name] = (s["exp_avg"].detach().cpu() if "exp_avg" in s else z, s["exp_avg_sq"].detach().cpu() if "exp_avg_sq" in s else z)
    return out


def load_adam(net, wrapped, opt, tensors, step, a):
    named = [(n, p) for n, p in net.named_parameters()]
    if a.fsdp:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        osd = {"state": {n: {"step": torch.tensor(float(step)), "exp_avg": torch.from_numpy(np.array(tensors[f"adam.m.{n}"])),
                             "exp_avg_sq": torch.from_numpy(np.array(tensors[f"adam.v.{n}"]))} for n, _ in named},
               "param_groups": [{**opt.state_dict()["param_groups"][0], "params": [n for n, _ in named]}]}
        opt.load_state_dict(FSDP.optim_state_dict_to_load(model=wrapped, optim=opt, optim_state_dict=osd))
        return
    for n, p in named:
        opt.state[p] = {"step": torch.tensor(float(step)), "exp_avg": torch.from_numpy(np.array(tensors[f"adam.m.{n}"])).to(p.device),
                        "exp_avg_sq": torch.from_numpy(np.array(tensors[f"adam.v.{n}"])).to(p.device)}


def save_checkpoint(path, d, net, wrapped, opt, ema, a, meta):
    state = full_state(net, wrapped, a)
    moments = adam_state(net, wrapped, opt, a)
    averaged = None
    if ema is not None:
        ema.swap()
        try:
            averaged = full_state(net, wrapped, a)
        finally:
            ema.swap()
    if not d.main:
        return
    tensors = []
    for name, t in state.items():
        # As PyTorch stores them (and unetc's checkpoints do): floats F32, BatchNorm counters I64.
        tensors.append((name, t.to(torch.int64) if name.endswith("num_batches_tracked") else t.float()))
    for name, (m, v) in moments.items():
        tensors += [(f"adam.m.{name}", m.float()), (f"adam.v.{name}", v.float())]
    if averaged is not None:
        tensors += [(f"ema.{n}", t.float()) for n, t in averaged.items() if t.is_floating_point() and not n.endswith("num_batches_tracked")]
    uio.write_checkpoint(path, tensors, meta)


def evaluate(d, wrapped, test, fit, config, task, inputs):
    """unetc's eval loss: held-out images in order, noised with a generator seeded from the seed alone."""
    B = min(config["batch"], test.count)
    rng = uio.Rng(uio.mix_seed(config["seed"], EVAL_SEED_TAG))
    total = [0.0, 0.0, 0.0]  # loss sum, count, correct
    wrapped.eval()
    with torch.no_grad():
        for start in range(0, test.count, B):
            idx = np.arange(start, min(start + B, test.count))
            x0 = fit(test.images[idx])
            labels = test.labels[idx]
            if task == "classify":
                x, t, target = x0, None, None
            else:
                x, t, target = uio.noisify(config["schedule"], x0, rng)
            # Each process takes a slice, padded to equal length so every process runs every forward.
            n = len(idx)
            per = -(-n // d.world)
            rows = np.arange(d.rank * per, d.rank * per + per)
            valid = rows < n
            rows = np.where(valid, rows, 0)
            out = wrapped(**model_inputs(inputs, x[rows], None if t is None else t[rows], labels[rows], d.device))
            keep = torch.from_numpy(valid).to(d.device)
            if task == "classify":
                lab = torch.from_numpy(labels[rows]).to(d.device)
                ce = F.cross_entropy(out.double(), lab, reduction="none")
                total[0] += float(ce[keep].sum())
                total[1] += float(keep.sum())
                total[2] += float((out.argmax(1) == lab)[keep].sum())
            else:
                err = (out.double() - torch.from_numpy(target[rows]).to(d.device).double()) ** 2
                total[0] += float(err[keep].sum())
                total[1] += float(err[keep].numel())
    wrapped.train()
    s, c, k = d.sum(total)
    return (s / c if c else float("nan")), (k / c if task == "classify" and c else None)


def model_inputs(inputs, x, t, c, device):
    out = {}
    for i in inputs:
        if i["kind"] == "image":
            out[i["arg"]] = torch.from_numpy(np.ascontiguousarray(x)).to(device, non_blocking=True)
        elif i["kind"] == "timestep":
            out[i["arg"]] = torch.from_numpy(np.ascontiguousarray(t)).to(device, non_blocking=True)
        else:
            out[i["arg"]] = torch.from_numpy(np.ascontiguousarray(c)).to(device, non_blocking=True)
    return out


def prefetch(iterable, depth=2):
    """Iterates `iterable` on a helper thread, `depth` items ahead; stops it when the consumer leaves."""
    q = queue.Queue(maxsize=depth)
    done = threading.Event()
    end = object()

    def put(item):
        while not done.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in iterable:
                if not put(item):
                    return
            put(end)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(e)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()
        worker.join()


def main(argv=None):
    a = parse_args(argv)
    d = Dist(a.cpu)
    stop = Stop()
    with open(os.path.join(HERE, "unetc.json")) as f:
        export = json.load(f)
    task = exported.TASK
    inputs = exported.INPUTS
    image = next(i for i in inputs if i["kind"] == "image")

    # ---- the run: fresh or resumed ----
    resume_tensors, position = None, None
    if a.resume:
        resume_tensors, meta = uio.read_checkpoint(a.resume)
        config, position = meta["train_config"], meta["position"]
        out = a.resume
        for key, name in (("epochs", "epochs"), ("batch", "batch"), ("lr", "lr"), ("schedule", "schedule"), ("optimizer", "optimizer"),
                          ("eps", "eps"), ("beta2", "beta2"), ("weightDecay", "weight_decay"), ("seed", "seed")):
            setattr(a, name, config[key])
        a.ema = config.get("ema")
        a.augment = bool(config.get("augment"))
    else:
        out = a.out
        if os.path.exists(os.path.join(out, uio.CHECKPOINT_FILE)):
            d.say(f"error: {out} already holds a run; continue it with --resume {out}, or choose another --out")
            return 1
    data_path = a.data or os.path.join(HERE, "data.bin")
    if not os.path.exists(data_path):
        d.say(f"error: no data at {data_path}; give --data FILE (unetc export --data writes data.bin)")
        return 1
    if a.fsdp and a.resume and config.get("ema") is not None:
        d.say("error: resuming a run with an EMA under --fsdp is not supported (the averages are kept per shard); resume it without --fsdp")
        return 2
    # A fresh run's config names its data by the file's source (fashion-mnist, as unetc does).
    train_ds, test_ds, config = load_data(data_path, config if a.resume else (lambda source: recipe_config(a, source)))
    source = train_ds.source
    value_range = uio.DATA_RANGE["classify" if task == "classify" else config["schedule"]]
    fit = uio.Fit(train_ds, image["shape"][1], image["shape"][0], value_range)
    B = config["batch"]
    if B % d.world:
        d.say(f"error: the global batch {B} does not split into {d.world} processes")
        return 2
    per_epoch = train_ds.count // B
    if per_epoch == 0:
        d.say(f"error: {train_ds.count} training images do not fill one batch of {B}; use a smaller --batch")
        return 1
    total = per_epoch * config["epochs"]
    if position is None:
        position = {"step": 0, "epoch": 0, "batchInEpoch": 0, "rngState": uio.mix_seed(config["seed"], NOISE_SEED_TAG), "epochLossSum": 0, "epochLossSteps": 0}

    # ---- model, optimizer, schedule, EMA ----
    net, wrapped = build(d, a, resume_tensors)
    Opt = torch.optim.AdamW if config["optimizer"] == "adamw" else torch.optim.Adam
    opt = Opt(wrapped.parameters(), lr=config["lr"], betas=(0.95, config["beta2"]), eps=config["eps"], weight_decay=config["weightDecay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config["lr"], total_steps=total, pct_start=0.3, anneal_strategy="cos",
                                                cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25, final_div_factor=1e4)
    ema = Ema(wrapped, config["ema"]) if config.get("ema") is not None else None
    if resume_tensors is not None:
        load_adam(net, wrapped, opt, resume_tensors, position["step"], a)
        for _ in range(position["step"]):
            sched.step()
        if ema is not None:
            ema.swap()  # the stored averages become the live weights for a moment, then are kept as averages
            names = [n for n, _ in net.named_parameters()] + [n for n, b in net.named_buffers() if b.is_floating_point() and not n.endswith("num_batches_tracked")]
            with torch.no_grad():
                for n, x in zip(names, ema.live):
                    x.copy_(torch.from_numpy(np.array(resume_tensors[f"ema.{n}"])))
            ema.swap()

    meta_static = export["checkpoint_metadata"]
    schedule = onecycle_state(config["lr"], total)
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, uio.CHECKPOINT_FILE)
    metrics_path = os.path.join(out, "metrics.jsonl")
    if d.main and not a.resume:
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({"spec": json.loads(meta_static["spec"]), "config": config, "data": {"source": source, "file": os.path.abspath(data_path), "train": train_ds.count,
                       "test": test_ds.count, "classes": train_ds.class_names, "fit": {"pad": fit.pad, "pool": fit.pool, "range": list(value_range), "size": fit.size}},
                       "device": f"pytorch ({d.device.type}) x{d.world}", "schedule": schedule, "trainer": "train.py (unetc export --to pytorch)",
                       "fsdp": a.fsdp, "argv": sys.argv[1:]}, f, indent=2)

    def metric(line):
        if d.main:
            with open(metrics_path, "a") as f:
                f.write(json.dumps(line) + "\n")

    def checkpoint(pos):
        meta = {**meta_static, "train_config": json.dumps(config), "position": json.dumps(pos), "step": str(pos["step"]), "epoch": str(pos["epoch"]),
                "rng_state": str(pos["rngState"]), "schedule": json.dumps(schedule), "classes": json.dumps(train_ds.class_names), "device": "pytorch"}
        save_checkpoint(ckpt_path, d, net, wrapped, opt, ema, a, meta)

    d.say(f"model {exported.MODEL_NAME}: {train_ds.count} training images ({per_epoch} steps of {B} per epoch, {B // d.world} per process x {d.world}), "
          f"{test_ds.count} held out; {config['epochs']} epochs, {total} steps; {d.device.type}{' FSDP' if a.fsdp else ' DDP' if d.world > 1 else ''}")

    # ---- the loop ----
    rng = uio.Rng(position["rngState"])
    local = B // d.world
    lo, hi = d.rank * local, (d.rank + 1) * local

    def batches(epoch, start):
        """One epoch's global batches from `start`, made as unetc makes them (on a helper thread:
        numpy's noise for a whole batch costs tens of milliseconds), with the noise state after each."""
        perm = uio.epoch_permutation(train_ds.count, config["seed"], epoch)
        for b in range(start, per_epoch):
            idx = perm[b * B:(b + 1) * B]
            x0 = fit(train_ds.images[idx])
            labels = train_ds.labels[idx]
            if task == "classify":
                x, t, target = (uio.augment(x0, fit.fill, rng) if config.get("augment") else x0), None, labels
            else:
                x, t, target = uio.noisify(config["schedule"], x0, rng)
            yield b, x[lo:hi], None if t is None else t[lo:hi], labels[lo:hi], target[lo:hi], rng.state

    loss_acc = torch.zeros((), dtype=torch.float64, device=d.device)
    interval, t_interval, train_seconds = 0, time.perf_counter(), 0.0
    epoch_sum, epoch_steps = float(position["epochLossSum"]), int(position["epochLossSteps"])
    steps_this_run, stopping = 0, False
    wrapped.train()
    for epoch in range(position["epoch"], config["epochs"]):
        t_epoch = time.perf_counter()
        start = position["batchInEpoch"] if epoch == position["epoch"] else 0
        done = start
        for b, x, t, labels, target, rng_state in prefetch(batches(epoch, start)):
            feeds = model_inputs(inputs, x, t, labels, d.device)
            target = torch.from_numpy(target).to(d.device, non_blocking=True)
            loss = F.cross_entropy(wrapped(**feeds), target) if task == "classify" else F.mse_loss(wrapped(**feeds), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            k = position["step"] + 1
            if ema is not None:
                ema.update(k)
            loss_acc += loss.detach().double()
            interval += 1
            steps_this_run += 1
            done = b + 1
            position = {**position, "step": k, "batchInEpoch": done, "rngState": rng_state}
            at_max = a.max_steps is not None and steps_this_run >= a.max_steps
            if k % a.log_every == 0 or done == per_epoch or at_max:
                s, flag = d.sum([float(loss_acc), float(stop.signal is not None or at_max)])
                dt = time.perf_counter() - t_interval
                train_seconds += dt
                mean = s / d.world / interval
                epoch_sum += s / d.world
                epoch_steps += interval
                lr, beta1 = opt.param_groups[0]["lr"], opt.param_groups[0]["betas"][0]
                metric({"kind": "train", "epoch": epoch + 1, "step": k, "loss": mean, "steps": interval, "lr": lr, "beta1": beta1,
                        "steps_per_s": interval / max(dt, 1e-9), "time_s": train_seconds})
                d.say(f"epoch {epoch + 1}/{config['epochs']} batch {done}/{per_epoch} step {k}: loss {mean:.4f} ({interval / max(dt, 1e-9):.2f} steps/s)")
                loss_acc.zero_()
                interval, t_interval = 0, time.perf_counter()
                if flag > 0:
                    stopping = True
                    break
        epoch_seconds = time.perf_counter() - t_epoch
        if stopping and done < per_epoch:
            position = {**position, "epochLossSum": epoch_sum, "epochLossSteps": epoch_steps}
            break
        train_loss = epoch_sum / epoch_steps if epoch_steps else float("nan")
        eval_loss, accuracy = evaluate(d, wrapped, test_ds, fit, config, task, inputs) if test_ds.count else (None, None)
        epoch_sum, epoch_steps = 0.0, 0
        position = {**position, "epoch": epoch + 1, "batchInEpoch": 0, "epochLossSum": 0, "epochLossSteps": 0}
        line = {"kind": "epoch", "epoch": epoch + 1, "step": position["step"], "train_loss": train_loss, "eval_loss": eval_loss}
        if accuracy is not None:
            line["eval_accuracy"] = accuracy
        metric({**line, "epoch_s": epoch_seconds, "time_s": train_seconds})
        d.say(f"epoch {epoch + 1}: train loss {train_loss:.4f}" + (f", eval loss {eval_loss:.4f}" if eval_loss is not None else ""))
        checkpoint(position)
        if stopping:
            break
    if stopping and position["batchInEpoch"] != 0:
        checkpoint(position)
    d.say(f"checkpoint {ckpt_path} at step {position['step']}; sample with: unetc sample {out}")
    d.close()
    if stop.signal is not None:
        return 128 + stop.signal
    return 0


if __name__ == "__main__":
    sys.exit(main())

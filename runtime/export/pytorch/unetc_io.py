"""unetc's file formats and recipe pieces for PyTorch, with numpy and torch only.

Written next to model.py by `unetc export SPEC --to pytorch`; train.py uses it. What is here:
  * safetensors read / write (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL), written atomically
  * unetc checkpoints: the tensors (state_dict names, `adam.m.<p>` / `adam.v.<p>`, `ema.<x>`), the
    metadata train.py fills in, and the SHA-256 seals unetc checks on every load
  * `load_state_dict(path)`: a unetc checkpoint (or a plain state_dict file) as a dict for
    `model.load_state_dict(..., strict=True)`
  * the data: unetc's dataset cache (`UNETC-DS`, what `unetc export --data` writes), or a .npz /
    .safetensors file with `images` uint8 [N, (C,) H, W] and `labels` [N]; the split, the subset,
    padding, pooling and scaling of unetc's recipe (runtime/data, runtime/train/data.ts)
  * unetc's random numbers (mulberry32, Box-Muller), vectorised, so the data order and the noise of
    a run here are those `unetc train` draws for the same seed (runtime/diffusion/rng.ts)
"""

import hashlib
import json
import math
import os
import struct

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------
# safetensors

_NP = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_FROM_NP = {np.dtype(v).newbyteorder("="): k for k, v in _NP.items() if k != "BF16"}


class FormatError(ValueError):
    """A file that is not what it should be; the message names it."""


def read_safetensors(path):
    """-> (dict name -> numpy array, metadata dict). BF16 comes back as float32."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise FormatError(f"{path}: {len(data)} bytes, too short for safetensors")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise FormatError(f"{path}: header length {n} runs past the end of the file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: unreadable safetensors header ({e})") from None
    meta = header.pop("__metadata__", None) or {}
    buf = memoryview(data)[8 + n:]
    out = {}
    for name, v in header.items():
        dt = v.get("dtype")
        if dt not in _NP:
            raise FormatError(f"{path}: tensor {name} has dtype {dt}, which this reader does not know")
        b, e = v["data_offsets"]
        count = int(np.prod(v["shape"], dtype=np.int64))
        if e - b != count * _NP[dt].itemsize or e > len(buf):
            raise FormatError(f"{path}: tensor {name} has {e - b} bytes for shape {v['shape']} ({dt})")
        arr = np.frombuffer(buf[b:e], dtype=_NP[dt]).reshape(v["shape"])
        if dt == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr
    return out, meta


def _encode(tensors, metadata):
    """safetensors bytes: 8-byte elements first, then 4, 2 and 1, so every offset is aligned."""
    arrays = []
    for name, a in tensors:
        # np.array, not ascontiguousarray: that one makes a scalar [] into [1]
        a = np.array(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a, order="C")
        dt = _FROM_NP.get(a.dtype.newbyteorder("="))
        if dt is None:
            raise TypeError(f"{name}: cannot store dtype {a.dtype}")
        arrays.append((name, dt, a.astype(_NP[dt], copy=False)))
    order = sorted(range(len(arrays)), key=lambda i: -_NP[arrays[i][1]].itemsize)
    offsets, pos = {}, 0
    for i in order:
        offsets[i] = (pos, pos + arrays[i][2].nbytes)
        pos += arrays[i][2].nbytes
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}} if metadata else {}
    for i, (name, dt, a) in enumerate(arrays):
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": list(offsets[i])}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    return struct.pack("<Q", len(head)) + head, b"".join(arrays[i][2].tobytes() for i in order)


def write_atomic(path, chunks):
    """Writes to a temporary file, fsyncs it and renames it into place: a reader never sees half a file."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        for c in chunks:
            f.write(c)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder


def write_safetensors(path, tensors, metadata=None):
    """tensors: (name, tensor or array) pairs in header order; metadata: str -> str."""
    write_atomic(path, _encode(list(tensors), metadata or {}))


# ---------------------------------------------------------------------------------------------
# unetc checkpoints (runtime/train/checkpoint.ts, checkpoint-seal.ts)

CHECKPOINT_FILE = "checkpoint.safetensors"
CHECKPOINT_FORMAT = "unetc-checkpoint/1"
_SEALS = ("data_sha256", "header_sha256")
_ZERO = "0" * 64


def write_checkpoint(path, tensors, metadata):
    """A sealed unetc checkpoint: data_sha256 over the tensor bytes, header_sha256 over the header
    (length prefix and JSON) with both seals read as 64 zeros."""
    meta = {**metadata, _SEALS[0]: _ZERO, _SEALS[1]: _ZERO}
    head, body = _encode(list(tensors), meta)
    header_hash = hashlib.sha256(head).hexdigest()
    data_hash = hashlib.sha256(body).hexdigest()
    text = head[8:].decode("utf-8")
    for key, value in ((_SEALS[0], data_hash), (_SEALS[1], header_hash)):
        placeholder = f'"{key}":"{_ZERO}"'
        if text.count(placeholder) != 1:
            raise RuntimeError(f"checkpoint seal: {key} placeholder not found once")
        text = text.replace(placeholder, f'"{key}":"{value}"')
    write_atomic(path, [head[:8], text.encode("utf-8"), body])


def checkpoint_path(run_or_file):
    p = os.fspath(run_or_file)
    return os.path.join(p, CHECKPOINT_FILE) if os.path.isdir(p) else p


def read_checkpoint(run_or_file):
    """-> (tensors, metadata) of a run folder or checkpoint file; metadata JSON values decoded."""
    path = checkpoint_path(run_or_file)
    tensors, meta = read_safetensors(path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise FormatError(f"{path}: not a unetc training checkpoint (format {meta.get('format')!r})")
    decoded = dict(meta)
    for key in ("spec", "train_config", "position", "schedule", "classes", "model_config"):
        if key in meta:
            decoded[key] = json.loads(meta[key])
    return tensors, decoded


def load_state_dict(path, ema=False, dtype=torch.float32):
    """A unetc checkpoint, run folder or plain state_dict file as a state_dict for
    `model.load_state_dict(sd, strict=True)`: optimizer and EMA entries dropped (with ema=True the
    EMA weights replace the raw ones), counters as int64, floats as `dtype`."""
    tensors, _ = read_safetensors(checkpoint_path(path))
    sd = {}
    for name, a in tensors.items():
        if name.startswith("adam.") or name.startswith("ema."):
            continue
        if ema and f"ema.{name}" in tensors:
            a = tensors[f"ema.{name}"]
        t = torch.from_numpy(np.array(a))
        sd[name] = t.to(torch.int64) if name.endswith("num_batches_tracked") else t.to(dtype)
    return sd


# ---------------------------------------------------------------------------------------------
# unetc's random numbers (runtime/diffusion/rng.ts): mulberry32 uniforms, Box-Muller normals.
# A draw is a hash of a counter, so a block of draws is computed at once.

_M32 = 0xFFFFFFFF
_STEP = 0x6D2B79F5


def mix_seed(*parts):
    """unetc's mixSeed: independent-looking seeds from integers (e.g. (seed, epoch))."""
    h = 0x9E3779B9
    for p in parts:
        h = (h ^ (p & _M32)) & _M32
        h = ((h ^ (h >> 16)) * 0x85EBCA6B) & _M32
        h = ((h ^ (h >> 13)) * 0xC2B2AE35) & _M32
        h = (h ^ (h >> 16)) & _M32
        h = (h + 0x9E3779B9) & _M32
    return h


class Rng:
    """unetc's generator; `state` is one uint32, as checkpoints store it."""

    def __init__(self, state):
        self.state = int(state) & _M32

    def uniforms(self, n):
        """n uniforms in [0, 1), float64."""
        if n <= 0:
            return np.zeros(0)
        k = np.arange(1, n + 1, dtype=np.uint64)
        s = (np.uint64(self.state) + k * np.uint64(_STEP)) & np.uint64(_M32)
        self.state = int(s[-1])
        m = np.uint64(_M32)
        t = ((s ^ (s >> np.uint64(15))) * (s | np.uint64(1))) & m
        t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
        return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0

    def normals(self, n):
        """n draws of `normal()` (two uniforms each, the sine half discarded)."""
        u = self.uniforms(2 * n).reshape(n, 2)
        return np.sqrt(-2 * np.log(np.maximum(u[:, 0], 1e-12))) * np.cos(2 * math.pi * u[:, 1])

    def fill_normal(self, n):
        """unetc's fillNormal: pairs of uniforms give cos and sin halves; an odd last one is normal()."""
        pairs = n // 2
        u = self.uniforms(2 * pairs).reshape(pairs, 2)
        r = np.sqrt(-2 * np.log(np.maximum(u[:, 0], 1e-12)))
        a = 2 * math.pi * u[:, 1]
        out = np.empty(n, dtype=np.float64)
        out[0:2 * pairs:2] = r * np.cos(a)
        out[1:2 * pairs:2] = r * np.sin(a)
        if n % 2:
            out[-1] = self.normals(1)[0]
        return out.astype(np.float32)


def epoch_permutation(count, seed, epoch):
    """The image order of one epoch: unetc's seeded Fisher-Yates shuffle."""
    rng = Rng(mix_seed(seed, epoch))
    u = rng.uniforms(max(count - 1, 0))
    order = list(range(count))
    for step, i in enumerate(range(count - 1, 0, -1)):
        j = int(u[step] * (i + 1))
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# noise (runtime/diffusion/schedules.ts): arithmetic in float64, results float32

COSINE_T_MAX = 0.999
KARRAS_SIGMA_DATA = 0.66
DATA_RANGE = {"cosine": (-0.5, 0.5), "karras": (-1.0, 1.0), "classify": (-1.0, 1.0)}


def noisify(schedule, x0, rng):
    """x0 float32 [B, ...] -> (x, t, target), float32, drawing what unetc draws in its order."""
    b = x0.shape[0]
    flat = x0.reshape(b, -1).astype(np.float64)
    if schedule == "cosine":
        t = np.clip(rng.uniforms(b), 0, COSINE_T_MAX).astype(np.float32)
        eps = rng.fill_normal(flat.size).reshape(flat.shape)
        a = np.cos(t.astype(np.float64) * math.pi / 2) ** 2
        x = np.sqrt(a)[:, None] * flat + np.sqrt(1 - a)[:, None] * eps.astype(np.float64)
        return x.astype(np.float32).reshape(x0.shape), t, eps.reshape(x0.shape)
    t = np.exp(rng.normals(b) * 1.2 + -1.2).astype(np.float32)
    noise = rng.fill_normal(flat.size).reshape(flat.shape).astype(np.float64)
    sigma = t.astype(np.float64)[:, None]
    totvar = sigma * sigma + KARRAS_SIGMA_DATA ** 2
    c_skip, c_out, c_in = KARRAS_SIGMA_DATA ** 2 / totvar, sigma * KARRAS_SIGMA_DATA / np.sqrt(totvar), 1 / np.sqrt(totvar)
    noised = flat + sigma * noise
    x = (noised * c_in).astype(np.float32).reshape(x0.shape)
    target = ((flat - c_skip * noised) / c_out).astype(np.float32).reshape(x0.shape)
    return x, t, target


def augment(x, fill, rng):
    """unetc's classifier augmentation, in place on x [B, C, S, S]: a flip with probability 1/2,
    then a shift by dy, dx in {-1, 0, 1}; uncovered pixels get `fill`."""
    b, _, s, _ = x.shape
    u = rng.uniforms(3 * b).reshape(b, 3)
    for i in range(b):
        g = x[i, :, :, ::-1] if u[i, 0] < 0.5 else x[i]
        dy, dx = int(u[i, 1] * 3) - 1, int(u[i, 2] * 3) - 1
        p = np.pad(g, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
        x[i] = p[:, 1 + dy:1 + dy + s, 1 + dx:1 + dx + s]
    return x


# ---------------------------------------------------------------------------------------------
# data (runtime/data, runtime/train/data.ts)


class Dataset:
    def __init__(self, images, labels, class_names, source):
        self.images = images  # uint8 [N, C, H, W]
        self.labels = labels  # int64 [N]
        self.class_names = list(class_names)
        self.source = source

    @property
    def count(self):
        return int(self.labels.shape[0])

    def select(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        return Dataset(self.images[idx], self.labels[idx], self.class_names, self.source)


def _images4(a, path):
    a = np.asarray(a)
    if a.dtype != np.uint8:
        # Integers 0..255 in a wider type (safetensors writers without U8) are fine.
        if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() > 255)):
            raise FormatError(f"{path}: images must be integers 0-255 (uint8), found {a.dtype}")
        a = a.astype(np.uint8)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise FormatError(f"{path}: images must be [N, H, W] or [N, C, H, W], found shape {list(a.shape)}")
    return a


def read_dataset(path):
    """unetc's dataset cache, .npz or .safetensors -> (Dataset, held-out Dataset or None)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == b"UNETC-DS":
        return _read_cache(path), None
    if path.endswith(".npz"):
        z = np.load(path, allow_pickle=False)
        arrays = {k: z[k] for k in z.files}
        names = [str(n) for n in arrays.get("class_names", [])]
    else:
        arrays, meta = read_safetensors(path)
        names = json.loads(meta["classes"]) if "classes" in meta else []
    for key in ("images", "labels"):
        if key not in arrays:
            raise FormatError(f"{path}: no `{key}` array (expected images uint8 [N, (C,) H, W] and labels [N])")

    def make(im, lb):
        im, lb = _images4(im, path), np.asarray(lb).astype(np.int64).reshape(-1)
        if im.shape[0] != lb.shape[0]:
            raise FormatError(f"{path}: {im.shape[0]} images but {lb.shape[0]} labels")
        return im, lb

    images, labels = make(arrays["images"], arrays["labels"])
    k = int(labels.max()) + 1 if labels.size else 0
    names = names or [str(i) for i in range(k)]
    train = Dataset(images, labels, names, path)
    if "test_images" in arrays:
        ti, tl = make(arrays["test_images"], arrays["test_labels"])
        return train, Dataset(ti, tl, names, path)
    return train, None


def _read_cache(path):
    with open(path, "rb") as f:
        data = f.read()
    version, count, c, h, w, meta_bytes = struct.unpack("<6I", data[8:32])
    if version != 1:
        raise FormatError(f"{path}: dataset cache format version {version}, this reader knows 1")
    pixels = count * c * h * w
    if len(data) != 64 + meta_bytes + pixels + count:
        raise FormatError(f"{path}: {len(data)} bytes, expected {64 + meta_bytes + pixels + count} (truncated?)")
    if hashlib.sha256(data[64:]).digest() != data[32:64]:
        raise FormatError(f"{path}: checksum mismatch (the file is damaged)")
    meta = json.loads(data[64:64 + meta_bytes].decode("utf-8"))
    start = 64 + meta_bytes
    images = np.frombuffer(data, dtype=np.uint8, count=pixels, offset=start).reshape(count, c, h, w)
    labels = np.frombuffer(data, dtype=np.uint8, count=count, offset=start + pixels).astype(np.int64)
    return Dataset(images, labels, meta["classNames"], meta["source"])


def by_class(ds):
    return [np.nonzero(ds.labels == k)[0] for k in range(len(ds.class_names))]


def split(ds):
    """unetc's held-out split: Fashion-MNIST's last 1,000 of each class; any other data the last
    10% of each class (at least one image when a class has two)."""
    fmnist = ds.source.startswith("fashion-mnist")
    train, test = [], []
    for idx in by_class(ds):
        n = 1000 if fmnist else (0 if len(idx) < 2 else max(1, int(len(idx) * 0.1)))
        if fmnist and len(idx) < n:
            raise FormatError(f"{ds.source}: a class has {len(idx)} images, fewer than the 1000 held out")
        train.extend(idx[:len(idx) - n])
        test.extend(idx[len(idx) - n:])
    return ds.select(sorted(train)), ds.select(sorted(test))


def subset_per_class(ds, k):
    """The first k images of each class, in dataset order."""
    keep = sorted(i for idx in by_class(ds) for i in idx[:k])
    return ds.select(keep)


class Fit:
    """How raw images become model inputs (runtime/train/data.ts fitData): zero padding to the
    smallest multiple of the model's size at least the image's (an even difference), average
    pooling by that multiple, values scaled onto `lo..hi`."""

    def __init__(self, ds, size, channels, value_range):
        if ds.images.shape[1] != channels:
            raise FormatError(f"{ds.source}: images have {ds.images.shape[1]} channel(s) but the model takes {channels}")
        h = ds.images.shape[2]
        for k in range(1, 65):
            if size * k >= h and (size * k - h) % 2 == 0:
                self.pad, self.pool = (size * k - h) // 2, k
                break
        else:
            raise FormatError(f"{ds.source}: {h}x{h} images cannot be padded and pooled to {size}x{size}")
        self.size = size
        lo, hi = value_range
        self.lut = ((np.arange(256) / 255) * (hi - lo) + lo).astype(np.float32)
        self.fill = float(self.lut[0])

    def __call__(self, images):
        """uint8 [B, C, H, W] -> float32 [B, C, size, size]."""
        x = self.lut[images]
        if self.pad:
            p = self.pad
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        if self.pool > 1:
            b, c, s, k = x.shape[0], x.shape[1], self.size, self.pool
            x = (x.astype(np.float64).reshape(b, c, s, k, s, k).sum(axis=(3, 5)) * (1 / (k * k))).astype(np.float32)
        return x

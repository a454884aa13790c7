"""Minimal safetensors writer and reader (no dependency on the safetensors package).

File layout (https://github.com/huggingface/safetensors):
  8 bytes      N, the header length, unsigned 64-bit little-endian
  N bytes      UTF-8 JSON object: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}}
               padded at the end with spaces so that 8 + N is a multiple of 8
  rest         the byte buffer; data_offsets = [begin, end) relative to its start;
               tensors are C-contiguous, little-endian, with no holes between them

dtype strings used: "F32" (float32), "I64" (int64), "I32" (int32); "F64" is accepted too.
A scalar has shape [] and occupies one element. Tensors with 8-byte elements are laid out
first, then 4-byte ones, so every tensor's offset in the file is a multiple of its element
size (TypedArray views can be made without copying). The JSON header lists tensors in the
order they were given, which is not necessarily the order of the bytes.
"""

import json
import struct

import numpy as np

DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4")}


def _dtype_name(arr):
    for name, dt in DTYPES.items():
        if arr.dtype == dt.newbyteorder("=") or arr.dtype == dt:
            return name
    raise TypeError(f"unsupported dtype {arr.dtype}")


def save(path, tensors, metadata=None):
    """tensors: list of (name, numpy array) in header order; metadata: dict of str -> str."""
    names = [n for n, _ in tensors]
    if len(set(names)) != len(names):
        raise ValueError("duplicate tensor names")
    if "__metadata__" in names:
        raise ValueError("__metadata__ is reserved")
    arrays = []
    for name, arr in tensors:
        arr = np.asarray(arr)
        dt = _dtype_name(arr)
        arrays.append((name, dt, np.array(arr, dtype=DTYPES[dt], order="C")))
    layout = sorted(range(len(arrays)), key=lambda i: -DTYPES[arrays[i][1]].itemsize)
    offsets = {}
    pos = 0
    for i in layout:
        nbytes = arrays[i][2].nbytes
        offsets[i] = (pos, pos + nbytes)
        pos += nbytes
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for i, (name, dt, arr) in enumerate(arrays):
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": list(offsets[i])}
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - (8 + len(hbytes)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for i in layout:
            f.write(arrays[i][2].tobytes())


def load(path):
    """Returns (dict name -> numpy array, metadata dict, header-order list of names)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    buf = data[8 + n:]
    spans = sorted((tuple(v["data_offsets"]), k) for k, v in header.items())
    pos = 0
    for (b, e), k in spans:
        if b != pos:
            raise ValueError(f"hole or overlap before {k}")
        pos = e
    if pos != len(buf):
        raise ValueError("byte buffer not fully indexed")
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        dt = DTYPES[v["dtype"]]
        if (8 + n + b) % dt.itemsize:
            raise ValueError(f"{k} misaligned")
        arr = np.frombuffer(buf[b:e], dtype=dt)
        if arr.size != int(np.prod(v["shape"], dtype=np.int64)):
            raise ValueError(f"{k}: {arr.size} elements for shape {v['shape']}")
        out[k] = arr.reshape(tuple(v["shape"]))
    return out, meta, list(header.keys())

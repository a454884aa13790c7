"""Reference FID and KID values for runtime/metrics, computed with PyTorch in float64.

Writes vectors.json next to this file. Run with Debian's Python (torch 1.13, numpy 1.24;
scipy is not installed, so sqrtm is done through eigendecompositions):

    /usr/bin/python3 tests/reference/fid_kid/make_vectors.py

FID follows fast.ai course22p2 miniai/fid.py (_calc_stats, _calc_fid): mean, unbiased
feats.T.cov(), ||m1-m2||^2 + tr c1 + tr c2 - 2 tr sqrtm(c1 c2). tr sqrtm(c1 c2) is computed
two ways: from torch.linalg.eigh of the symmetric s c2 s with s = sqrt(c1) (the value the
test compares against), and from torch.linalg.eigvals of c1 @ c2, summing the real parts of
the square roots (what scipy's sqrtm(...).real.trace() amounts to), as a cross-check.

KID is a direct port of the course's _squared_mmd and _calc_kid, run in float64.

Features are drawn in float64, rounded to 4 decimals and cast to float32, as the course's
features are float32; the JSON holds the 4-decimal values, and both sides read them as
float32 and compute in float64.
"""

import json
import math
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).with_name("vectors.json")


# --- The course's code, ported to float64 (miniai/fid.py) --------------------------------

def calc_stats(feats):
    feats = feats.squeeze()
    return feats.mean(0), feats.T.cov()


def squared_mmd(x, y):
    def k(a, b):
        return (a @ b.transpose(-2, -1) / a.shape[-1] + 1) ** 3

    m, n = x.shape[-2], y.shape[-2]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    kxx_sum = kxx.sum([-1, -2]) - kxx.diagonal(0, -1, -2).sum(-1)
    kyy_sum = kyy.sum([-1, -2]) - kyy.diagonal(0, -1, -2).sum(-1)
    kxy_sum = kxy.sum([-1, -2])
    return kxx_sum / m / (m - 1) + kyy_sum / n / (n - 1) - kxy_sum * 2 / m / n


def calc_kid(x, y, maxs=50):
    xs, ys = x.shape[0], y.shape[0]
    n = max(math.ceil(min(xs / maxs, ys / maxs)), 4)
    mmd = 0.0
    for i in range(n):
        cur_x = x[round(i * xs / n): round((i + 1) * xs / n)]
        cur_y = y[round(i * ys / n): round((i + 1) * ys / n)]
        mmd += squared_mmd(cur_x, cur_y)
    return (mmd / n).item()


def kid_bounds(rows, chunks):
    return [round(i * rows / chunks) for i in range(chunks + 1)]


# --- tr sqrtm(c1 c2), two ways --------------------------------------------------------------

def sqrt_psd(c):
    w, v = torch.linalg.eigh(c)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def trace_sqrt_symmetric(c1, c2):
    s = sqrt_psd(c1)
    m = s @ c2 @ s
    m = (m + m.T) / 2
    return torch.linalg.eigvalsh(m).clamp(min=0).sqrt().sum().item()


def trace_sqrt_eigvals(c1, c2):
    ev = torch.linalg.eigvals(c1 @ c2)
    return torch.sqrt(ev).real.sum().item()


def fid_parts(x, y):
    m1, c1 = calc_stats(x)
    m2, c2 = calc_stats(y)
    mean_term = ((m1 - m2) ** 2).sum().item()
    traces = (c1.trace() + c2.trace()).item()
    tr_sym = trace_sqrt_symmetric(c1, c2)
    tr_eig = trace_sqrt_eigvals(c1, c2)
    return {
        "mean_term": mean_term,
        "traces": traces,
        "trace_sqrt": tr_sym,
        "trace_sqrt_eigvals": tr_eig,
        "fid": mean_term + traces - 2 * tr_sym,
        "fid_eigvals": mean_term + traces - 2 * tr_eig,
    }


# --- Feature sets ----------------------------------------------------------------------------

def as_float32_features(t):
    """Round to 4 decimals, then to float32; returns (float64 tensor of those values, JSON list)."""
    rounded = [round(v, 4) for v in t.flatten().tolist()]
    f32 = torch.tensor(rounded, dtype=torch.float64).float()
    return f32.double().reshape(t.shape), rounded


def draw(gen, n, dim, shift, spread, rank=None):
    """n samples of a correlated Gaussian: z @ mix * spread + shift (mix is dim x dim, or rank x dim)."""
    r = dim if rank is None else rank
    mix = torch.randn(r, dim, generator=gen) / math.sqrt(r)
    z = torch.randn(n, r, generator=gen)
    return z @ mix * spread + shift


CASES = [
    # name, dim, nx, ny, y shift, y spread, KID maxs values, note
    ("dim16_300v200", 16, 300, 200, 0.3, 1.2, [50, 30], "full rank; 4 KID chunks of 75 and 50 rows"),
    ("dim8_30v25", 8, 30, 25, 0.5, 0.8, [50, 5], "KID bounds hit ties: 30/4 -> 0,8,15,22,30; 25/4 -> 0,6,12,19,25"),
    ("dim8_255v261", 8, 255, 261, 0.2, 1.1, [50], "6 KID chunks; 255/6 ties at 42.5, 127.5, 212.5"),
    ("dim16_10v12", 16, 10, 12, 0.4, 1.0, [50], "fewer samples than dims: rank-deficient covariances; KID bounds 0,2,5,8,10"),
]


def main():
    gen = torch.Generator().manual_seed(20221)
    cases = []
    for name, dim, nx, ny, shift, spread, maxs_list, note in CASES:
        x, x_json = as_float32_features(draw(gen, nx, dim, 0.0, 1.0))
        y, y_json = as_float32_features(draw(gen, ny, dim, shift, spread))
        parts = fid_parts(x, y)
        kids = []
        for maxs in maxs_list:
            chunks = max(math.ceil(min(nx / maxs, ny / maxs)), 4)
            kids.append({
                "maxs": maxs,
                "chunks": chunks,
                "x_bounds": kid_bounds(nx, chunks),
                "y_bounds": kid_bounds(ny, chunks),
                "kid": calc_kid(x, y, maxs),
            })
        rel = abs(parts["fid"] - parts["fid_eigvals"]) / abs(parts["fid"])
        print(f"{name}: fid {parts['fid']:.12g} (eigvals cross-check rel diff {rel:.2e}), "
              + ", ".join(f"kid[maxs={k['maxs']}] {k['kid']:.12g}" for k in kids))
        cases.append({
            "name": name,
            "note": note,
            "dim": dim,
            "nx": nx,
            "ny": ny,
            **parts,
            "kid": kids,
            "x": x_json,
            "y": y_json,
        })
    doc = {
        "about": "FID/KID reference values from tests/reference/fid_kid/make_vectors.py (torch float64). "
                 "Features are row-major [n, dim]; read them as float32. Regenerate, never edit by hand.",
        "torch": torch.__version__,
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

"""PyTorch reference implementation of the fast.ai 2022 part 2, lesson 24 diffusion UNets.

Written from the description in shared/notes/LESSON.md section 1 (not copied from the
course). Module and attribute names are chosen so that ``state_dict()`` keys match the
course's models exactly (``emb_mlp.0.0`` is the BatchNorm1d, ``downs.1.resnets.0.conv1.2``
the first 3x3 conv of a resblock, and so on).

Models:
  * ``EmbUNetModel``: nb 26 / nb 28 (HEAD ``miniai/diffusion.py``) timestep-conditioned UNet,
    optional multi-head self-attention from ``attn_start``; with ``n_classes`` it becomes the
    class-conditional model of nb 28 cell 39 (``cond_emb`` summed into the MLP output), and
    attention stays configurable (the course's conditional run had none).
  * ``PlainUNetModel``: nb 26's first UNet, without any time embedding. Its structure (pre-act
    resblocks with BatchNorm2d, saved resblock and stride-2 conv outputs, one extra resblock
    per up level) is the course's, but its module names are deliberately parallel to
    ``EmbUNetModel`` minus the embedding parts (see README.md, "The plain UNet").

Everything here is dtype-agnostic: the models run in float32 or float64
(``model.double()``); the timestep embedding follows the dtype of ``t``.

Run ``python3 lesson_models.py`` to execute the self-checks.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------------------------------
# helpers


def timestep_embedding(tsteps, emb_dim, max_period=10000):
    """Sinusoidal embedding: frequencies exp(-ln(max_period) * linspace(0, 1, emb_dim//2))
    (both endpoints included), output [sin | cos], zero-padded by one column if emb_dim is
    odd. ``t`` is used as is (no x1000 scaling). Computed in t's floating dtype (float32 for
    integer t), so a float64 t gives a float64 embedding."""
    dtype = tsteps.dtype if tsteps.is_floating_point() else torch.float32
    half = emb_dim // 2
    freqs = torch.exp(
        torch.linspace(0.0, 1.0, half, dtype=dtype, device=tsteps.device) * -math.log(max_period)
    )
    args = tsteps.to(dtype).reshape(-1, 1) * freqs.reshape(1, -1)
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if emb_dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


def pre_conv(ni, nf, ks=3, stride=1, act=nn.SiLU, norm=None, bias=True):
    """Pre-activation conv: [norm(ni)] -> [act] -> Conv2d(ni, nf, ks, stride, pad ks//2)."""
    layers = []
    if norm is not None:
        layers.append(norm(ni))
    if act is not None:
        layers.append(act())
    layers.append(nn.Conv2d(ni, nf, kernel_size=ks, stride=stride, padding=ks // 2, bias=bias))
    return nn.Sequential(*layers)


def lin(ni, nf, act=nn.SiLU, norm=None, bias=True):
    """Pre-activation linear: [norm(ni)] -> [act] -> Linear(ni, nf)."""
    layers = []
    if norm is not None:
        layers.append(norm(ni))
    if act is not None:
        layers.append(act())
    layers.append(nn.Linear(ni, nf, bias=bias))
    return nn.Sequential(*layers)


def upsample(nf):
    """Nearest-neighbour x2 upsample followed by a 3x3 conv (with bias)."""
    return nn.Sequential(nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(nf, nf, 3, padding=1))


def split_heads(x, nheads):
    """einops 'n s (h d) -> (n h) s d' written with view/permute."""
    n, s, hd = x.shape
    d = hd // nheads
    return x.reshape(n, s, nheads, d).permute(0, 2, 1, 3).reshape(n * nheads, s, d)


def merge_heads(x, nheads):
    """einops '(n h) s d -> n s (h d)' written with view/permute."""
    nh, s, d = x.shape
    n = nh // nheads
    return x.reshape(n, nheads, s, d).permute(0, 2, 1, 3).reshape(n, s, nheads * d)


# ---------------------------------------------------------------------------------------
# attention


class SelfAttention(nn.Module):
    """Multi-head self-attention over a (n, c, s) sequence (or (n, s, c) if transpose=False).

    heads = ni // attn_chans (attn_chans = channels per head); scale = sqrt(ni / heads).
    The qkv output (3*ni features) is split into heads *before* being chunked into q, k, v,
    so head h owns features [h*3d, (h+1)*3d) laid out [q_h | k_h | v_h]. No residual inside.

    norm="layer" (HEAD, default) applies LayerNorm(ni) over channels. norm="batch" is the
    variant that produced the notebook's reported numbers (commit 5199020): BatchNorm2d(ni)
    on the 4-D input; it is only valid through SelfAttention2D.
    """

    def __init__(self, ni, attn_chans, transpose=True, norm="layer"):
        super().__init__()
        if attn_chans <= 0 or ni % attn_chans != 0:
            raise ValueError(f"channels {ni} not divisible by attn_chans {attn_chans}")
        self.nheads = ni // attn_chans
        self.scale = math.sqrt(ni / self.nheads)
        self.norm_kind = norm
        if norm == "layer":
            self.norm = nn.LayerNorm(ni)
        elif norm == "batch":
            self.norm = nn.BatchNorm2d(ni)
        else:
            raise ValueError(f"unknown attention norm {norm!r}")
        self.qkv = nn.Linear(ni, ni * 3)
        self.proj = nn.Linear(ni, ni)
        self.t = transpose

    def attend(self, x):
        """x: (n, s, c) already normalized. Returns proj(attention(x)), (n, s, c)."""
        x = self.qkv(x)
        x = split_heads(x, self.nheads)
        q, k, v = torch.chunk(x, 3, dim=-1)
        w = torch.bmm(q, k.transpose(1, 2)) / self.scale
        x = torch.bmm(torch.softmax(w, dim=-1), v)
        x = merge_heads(x, self.nheads)
        return self.proj(x)

    def forward(self, x):
        if self.norm_kind != "layer":
            raise ValueError("BatchNorm2d attention needs 4-D input: use SelfAttention2D")
        if self.t:
            x = x.transpose(1, 2)
        x = self.attend(self.norm(x))
        if self.t:
            x = x.transpose(1, 2)
        return x


class SelfAttention2D(SelfAttention):
    """SelfAttention over the h*w positions of a (n, c, h, w) feature map."""

    def forward(self, x):
        n, c, h, w = x.shape
        if self.norm_kind == "batch":
            seq = self.norm(x).reshape(n, c, h * w).transpose(1, 2)
            return self.attend(seq).transpose(1, 2).reshape(n, c, h, w)
        return super().forward(x.reshape(n, c, h * w)).reshape(n, c, h, w)


# ---------------------------------------------------------------------------------------
# resblocks


class EmbResBlock(nn.Module):
    """Pre-activation resblock with scale/shift timestep conditioning.

    conv1 = BN(ni) -> SiLU -> Conv3x3(ni, nf); emb = emb_proj(silu(t)) split as (scale, shift);
    x = x*(1+scale) + shift; conv2 = BN(nf) -> SiLU -> Conv3x3(nf, nf);
    x = x + idconv(inp) (1x1 conv only if ni != nf); then x = x + attn(x) if attention.
    """

    def __init__(self, n_emb, ni, nf=None, ks=3, act=nn.SiLU, norm=nn.BatchNorm2d, attn_chans=0,
                 attn_norm="layer"):
        super().__init__()
        if nf is None:
            nf = ni
        self.emb_proj = nn.Linear(n_emb, nf * 2)
        self.conv1 = pre_conv(ni, nf, ks, act=act, norm=norm)
        self.conv2 = pre_conv(nf, nf, ks, act=act, norm=norm)
        self.idconv = nn.Identity() if ni == nf else nn.Conv2d(ni, nf, 1)
        self.attn = SelfAttention2D(nf, attn_chans, norm=attn_norm) if attn_chans else None

    def forward(self, x, t):
        inp = x
        x = self.conv1(x)
        emb = self.emb_proj(F.silu(t))[:, :, None, None]
        scale, shift = torch.chunk(emb, 2, dim=1)
        x = x * (1 + scale) + shift
        x = self.conv2(x)
        x = x + self.idconv(inp)
        if self.attn is not None:
            x = x + self.attn(x)
        return x


class ResBlock(nn.Module):
    """EmbResBlock without the embedding: conv2(conv1(x)) + idconv(x) (plain UNet)."""

    def __init__(self, ni, nf=None, ks=3, act=nn.SiLU, norm=nn.BatchNorm2d):
        super().__init__()
        if nf is None:
            nf = ni
        self.conv1 = pre_conv(ni, nf, ks, act=act, norm=norm)
        self.conv2 = pre_conv(nf, nf, ks, act=act, norm=norm)
        self.idconv = nn.Identity() if ni == nf else nn.Conv2d(ni, nf, 1)

    def forward(self, x, t=None):
        return self.conv2(self.conv1(x)) + self.idconv(x)


# ---------------------------------------------------------------------------------------
# down / up blocks. The course's saved() wrapper appends each resnet output and the
# downsample conv output to block.saved; here forward() does that explicitly.


class DownBlock(nn.Module):
    def __init__(self, n_emb, ni, nf, add_down=True, num_layers=1, attn_chans=0, attn_norm="layer"):
        super().__init__()
        if n_emb is None:
            self.resnets = nn.ModuleList([ResBlock(ni if i == 0 else nf, nf) for i in range(num_layers)])
        else:
            self.resnets = nn.ModuleList([
                EmbResBlock(n_emb, ni if i == 0 else nf, nf, attn_chans=attn_chans, attn_norm=attn_norm)
                for i in range(num_layers)
            ])
        self.add_down = add_down
        self.down = nn.Conv2d(nf, nf, 3, stride=2, padding=1) if add_down else nn.Identity()
        self.saved = []

    def forward(self, x, t=None):
        self.saved = []
        for resnet in self.resnets:
            x = resnet(x, t)
            self.saved.append(x)
        if self.add_down:
            x = self.down(x)
            self.saved.append(x)
        return x


class UpBlock(nn.Module):
    """num_layers resnets (the model passes its num_layers + 1); each takes cat([x, skip])."""

    def __init__(self, n_emb, ni, prev_nf, nf, add_up=True, num_layers=2, attn_chans=0, attn_norm="layer"):
        super().__init__()
        ins = [(prev_nf if i == 0 else nf) + (ni if i == num_layers - 1 else nf) for i in range(num_layers)]
        if n_emb is None:
            self.resnets = nn.ModuleList([ResBlock(c, nf) for c in ins])
        else:
            self.resnets = nn.ModuleList([
                EmbResBlock(n_emb, c, nf, attn_chans=attn_chans, attn_norm=attn_norm) for c in ins
            ])
        self.up = upsample(nf) if add_up else nn.Identity()

    def forward(self, x, t, ups):
        for resnet in self.resnets:
            x = resnet(torch.cat([x, ups.pop()], dim=1), t)
        return self.up(x)


# ---------------------------------------------------------------------------------------
# models


class EmbUNetModel(nn.Module):
    """Lesson 24 UNet. attn_chans=0 disables attention (nb 26); attn_chans=8, attn_start=1 is
    nb 28's default. n_classes adds ``cond_emb`` (nb 28 cell 39), forward((x, t, c)).

    Registration order (= state_dict order): conv_in, [cond_emb], emb_mlp, downs, mid_block,
    ups, conv_out.
    """

    def __init__(self, in_channels=3, out_channels=3, nfs=(224, 448, 672, 896), num_layers=1,
                 attn_chans=8, attn_start=1, n_classes=None, attn_norm="layer"):
        super().__init__()
        nfs = tuple(nfs)
        n = len(nfs)
        self.conv_in = nn.Conv2d(in_channels, nfs[0], kernel_size=3, padding=1)
        self.n_temb = nfs[0]
        n_emb = nfs[0] * 4
        self.n_classes = n_classes
        if n_classes:
            self.cond_emb = nn.Embedding(n_classes, n_emb)
        self.emb_mlp = nn.Sequential(lin(self.n_temb, n_emb, norm=nn.BatchNorm1d), lin(n_emb, n_emb))
        self.downs = nn.ModuleList()
        nf = nfs[0]
        for i in range(n):
            ni, nf = nf, nfs[i]
            self.downs.append(DownBlock(n_emb, ni, nf, add_down=i != n - 1, num_layers=num_layers,
                                        attn_chans=0 if i < attn_start else attn_chans, attn_norm=attn_norm))
        self.mid_block = EmbResBlock(n_emb, nfs[-1])
        rev = list(reversed(nfs))
        nf = rev[0]
        self.ups = nn.ModuleList()
        for i in range(n):
            prev_nf, nf = nf, rev[i]
            ni = rev[min(i + 1, n - 1)]
            self.ups.append(UpBlock(n_emb, ni, prev_nf, nf, add_up=i != n - 1, num_layers=num_layers + 1,
                                    attn_chans=0 if i >= n - attn_start else attn_chans, attn_norm=attn_norm))
        self.conv_out = pre_conv(nfs[0], out_channels, act=nn.SiLU, norm=nn.BatchNorm2d, bias=False)

    def embedding(self, t, c=None):
        emb = self.emb_mlp(timestep_embedding(t, self.n_temb))
        if self.n_classes:
            if c is None:
                raise ValueError("class-conditional model needs c")
            emb = emb + self.cond_emb(c.long())
        return emb

    def forward(self, inp):
        if self.n_classes:
            x, t, c = inp
        else:
            x, t = inp[0], inp[1]
            c = None
        emb = self.embedding(t, c)
        x = self.conv_in(x)
        saved = [x]
        for block in self.downs:
            x = block(x, emb)
        saved += [s for block in self.downs for s in block.saved]
        x = self.mid_block(x, emb)
        for block in self.ups:
            x = block(x, emb, saved)
        if saved:
            raise RuntimeError(f"{len(saved)} skip activations left unused")
        return self.conv_out(x)


class PlainUNetModel(nn.Module):
    """nb 26's first UNet (no time embedding), with names parallel to EmbUNetModel.

    conv_in, downs.i.{resnets.j.{conv1,conv2,idconv}, down}, mid_block, ups.i.{resnets.j, up},
    conv_out. conv_out keeps the course's bias=True (nb 26 calls its conv helper with the
    default bias here, unlike EmbUNetModel's bias=False). forward(x) or forward((x, ...)).
    """

    def __init__(self, in_channels=3, out_channels=3, nfs=(224, 448, 672, 896), num_layers=1):
        super().__init__()
        nfs = tuple(nfs)
        n = len(nfs)
        self.conv_in = nn.Conv2d(in_channels, nfs[0], kernel_size=3, padding=1)
        self.downs = nn.ModuleList()
        nf = nfs[0]
        for i in range(n):
            ni, nf = nf, nfs[i]
            self.downs.append(DownBlock(None, ni, nf, add_down=i != n - 1, num_layers=num_layers))
        self.mid_block = ResBlock(nfs[-1])
        rev = list(reversed(nfs))
        nf = rev[0]
        self.ups = nn.ModuleList()
        for i in range(n):
            prev_nf, nf = nf, rev[i]
            ni = rev[min(i + 1, n - 1)]
            self.ups.append(UpBlock(None, ni, prev_nf, nf, add_up=i != n - 1, num_layers=num_layers + 1))
        self.conv_out = pre_conv(nfs[0], out_channels, act=nn.SiLU, norm=nn.BatchNorm2d, bias=True)

    def forward(self, inp):
        x = inp if torch.is_tensor(inp) else inp[0]
        x = self.conv_in(x)
        saved = [x]
        for block in self.downs:
            x = block(x)
        saved += [s for block in self.downs for s in block.saved]
        x = self.mid_block(x)
        for block in self.ups:
            x = block(x, None, saved)
        if saved:
            raise RuntimeError(f"{len(saved)} skip activations left unused")
        return self.conv_out(x)


def build_model(config):
    """Build a model from a JSON-able config dict (see configs.py)."""
    kind = config.get("kind", "emb")
    if kind == "plain":
        return PlainUNetModel(config["in_channels"], config["out_channels"], config["nfs"], config["num_layers"])
    if kind == "emb":
        return EmbUNetModel(config["in_channels"], config["out_channels"], config["nfs"], config["num_layers"],
                            attn_chans=config.get("attn_chans", 0), attn_start=config.get("attn_start", 1),
                            n_classes=config.get("n_classes"), attn_norm=config.get("attn_norm", "layer"))
    raise ValueError(f"unknown model kind {kind!r}")


# ---------------------------------------------------------------------------------------
# self-checks


def _split_heads_by_index(x, nheads):
    n, s, hd = x.shape
    d = hd // nheads
    out = torch.empty(n * nheads, s, d, dtype=x.dtype)
    for b in range(n):
        for h in range(nheads):
            for j in range(d):
                out[b * nheads + h, :, j] = x[b, :, h * d + j]
    return out


def _attention_by_loops(m, x):
    n, c, h, w = x.shape
    seq = m.norm(x.reshape(n, c, h * w).transpose(1, 2))
    qkv = m.qkv(seq)
    d = c // m.nheads
    heads = []
    for hh in range(m.nheads):
        blk = qkv[:, :, hh * 3 * d:(hh + 1) * 3 * d]
        q, k, v = blk[..., :d], blk[..., d:2 * d], blk[..., 2 * d:]
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1)
        heads.append(a @ v)
    out = m.proj(torch.cat(heads, dim=-1))
    return out.transpose(1, 2).reshape(n, c, h, w)


def self_check():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    for h in (1, 2, 3, 4, 6):
        a = split_heads(x, h)
        assert torch.equal(a, _split_heads_by_index(x, h))
        assert torch.equal(merge_heads(a, h), x)

    m = SelfAttention2D(12, 4).double()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_()
    xi = torch.randn(3, 12, 2, 3, dtype=torch.float64)
    assert torch.allclose(m(xi), _attention_by_loops(m, xi), atol=1e-10)
    assert m.nheads == 3 and abs(m.scale - 2.0) < 1e-12

    t = torch.tensor([0.0, 0.5, 0.999], dtype=torch.float64)
    e = timestep_embedding(t, 8)
    freqs = [10000.0 ** (-i / 3) for i in range(4)]
    ref = torch.tensor([[math.sin(tt * f) for f in freqs] + [math.cos(tt * f) for f in freqs] for tt in t.tolist()],
                       dtype=torch.float64)
    assert torch.allclose(e, ref, atol=1e-12)
    e7 = timestep_embedding(t, 7)
    assert e7.shape == (3, 7) and torch.all(e7[:, -1] == 0)

    def count(m):
        return sum(p.numel() for p in m.parameters())

    big = dict(in_channels=1, out_channels=1, nfs=(32, 64, 128, 256), num_layers=2)
    assert count(EmbUNetModel(**big, attn_chans=0)) == 13_021_792
    assert count(EmbUNetModel(**big, attn_chans=8, attn_start=1)) == 14_755_552
    assert count(EmbUNetModel(**big, attn_chans=0, n_classes=10)) == 13_023_072
    assert count(EmbUNetModel(**big, attn_chans=8, attn_start=1, n_classes=10)) == 14_756_832
    assert count(PlainUNetModel(**big)) == 12_315_745
    assert count(EmbUNetModel(**big, attn_chans=8, attn_start=1, attn_norm="batch")) == 14_755_552

    mm = EmbUNetModel(**big, attn_chans=8, attn_start=1).eval()
    with torch.no_grad():
        y = mm((torch.randn(2, 1, 32, 32), torch.rand(2)))
    assert y.shape == (2, 1, 32, 32)
    heads = [(name, mod.nheads) for name, mod in mm.named_modules() if isinstance(mod, SelfAttention)]
    assert [h for _, h in heads if _.startswith("downs.1.")] == [8, 8]
    assert not any(name.startswith(("downs.0.", "ups.3.", "mid_block")) for name, _ in heads)
    print("lesson_models self-check passed")


if __name__ == "__main__":
    self_check()

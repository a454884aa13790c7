"""Model configurations shared by dump_state_dicts.py and make_vectors.py.

Each config is a JSON-able dict understood by lesson_models.build_model:
  kind          "emb" (EmbUNetModel, optionally class-conditional) or "plain" (PlainUNetModel)
  in_channels, out_channels, nfs, num_layers
  attn_chans    channels per attention head; 0 = no attention          (emb only)
  attn_start    first down level with attention (ups mirror it)         (emb only)
  n_classes     null = unconditional; else size of cond_emb             (emb only)
Vector configs add: batch, image_size, seed.
"""

LESSON = dict(in_channels=1, out_channels=1, nfs=[32, 64, 128, 256], num_layers=2)

# The lesson's Fashion-MNIST models (state dict names and parameter counts only).
LESSON_CONFIGS = {
    "emb_noattn": dict(kind="emb", **LESSON, attn_chans=0, attn_start=1, n_classes=None),
    "emb_attn": dict(kind="emb", **LESSON, attn_chans=8, attn_start=1, n_classes=None),
    "cond_noattn": dict(kind="emb", **LESSON, attn_chans=0, attn_start=1, n_classes=10),
    "cond_attn": dict(kind="emb", **LESSON, attn_chans=8, attn_start=1, n_classes=10),
    "plain": dict(kind="plain", **LESSON),
}

# Parameter counts the lesson's models must have (LESSON.md 1.5 / 1.6). plain's count is
# derived by hand: emb_noattn minus emb_mlp (64 + 4,224 + 16,512 = 20,800) minus the 21
# emb_proj Linears (685,248) plus conv_out's bias (1).
EXPECTED_PARAMS = {
    "emb_noattn": 13_021_792,
    "emb_attn": 14_755_552,
    "cond_noattn": 13_023_072,
    "cond_attn": 14_756_832,
    "plain": 12_315_745,
}

_SMALL = dict(in_channels=1, out_channels=1, batch=4, image_size=8)

# Tiny configs with full reference vectors (vectors/<name>.safetensors).
VECTOR_CONFIGS = {
    "small_attn_cond": dict(kind="emb", **_SMALL, nfs=[8, 16], num_layers=2, attn_chans=4, attn_start=1,
                            n_classes=3, seed=1),
    "odd_channels": dict(kind="emb", **_SMALL, nfs=[6, 12, 20], num_layers=1, attn_chans=2, attn_start=1,
                         n_classes=None, seed=2),
    "three_layers": dict(kind="emb", **_SMALL, nfs=[4, 8], num_layers=3, attn_chans=4, attn_start=0,
                         n_classes=2, seed=3),
    "noattn": dict(kind="emb", **_SMALL, nfs=[8, 16], num_layers=2, attn_chans=0, attn_start=1,
                   n_classes=None, seed=4),
    "plain_small": dict(kind="plain", **_SMALL, nfs=[4, 8], num_layers=1, seed=5),
}

MODEL_KEYS = ("kind", "in_channels", "out_channels", "nfs", "num_layers", "attn_chans", "attn_start", "n_classes")


def model_config(config):
    """The part of a config that determines the model (drops batch, image_size, seed)."""
    return {k: config[k] for k in MODEL_KEYS if k in config}

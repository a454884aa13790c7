"""Write tests/reference/state_dicts.json: the state_dict layout of every reference config.

For each config name (configs.LESSON_CONFIGS and configs.VECTOR_CONFIGS):
  {"config": {...}, "num_parameters": N,
   "entries": [[name, [shape...], "param" | "buffer"], ...]}      (state_dict order)
N = sum(p.numel() for p in model.parameters()). Buffers are the BatchNorm running_mean,
running_var and num_batches_tracked. Asserts the lesson's parameter counts.

Usage: /usr/bin/python3 tests/reference/dump_state_dicts.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import configs  # noqa: E402
from lesson_models import build_model  # noqa: E402

OUT = os.path.join(HERE, "state_dicts.json")


def describe(model):
    params = {name for name, _ in model.named_parameters()}
    buffers = {name for name, _ in model.named_buffers()}
    entries = []
    for name, tensor in model.state_dict().items():
        if name in params:
            kind = "param"
        elif name in buffers:
            kind = "buffer"
        else:
            raise AssertionError(f"{name} is neither a parameter nor a buffer")
        entries.append([name, list(tensor.shape), kind])
    return entries


def layout(config):
    model = build_model(config)
    return {
        "config": config,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "entries": describe(model),
    }


def all_layouts():
    out = {}
    for name, config in {**configs.LESSON_CONFIGS, **configs.VECTOR_CONFIGS}.items():
        out[name] = layout(config)
    for name, expected in configs.EXPECTED_PARAMS.items():
        got = out[name]["num_parameters"]
        assert got == expected, f"{name}: {got:,} parameters, expected {expected:,}"
    return out


def to_json(layouts):
    """JSON with one state_dict entry per line, so diffs stay readable."""
    lines = ["{"]
    keys = list(layouts)
    for i, key in enumerate(keys):
        item = layouts[key]
        lines.append(f"  {json.dumps(key)}: {{")
        lines.append(f"    \"config\": {json.dumps(item['config'])},")
        lines.append(f"    \"num_parameters\": {item['num_parameters']},")
        lines.append("    \"entries\": [")
        entries = item["entries"]
        for j, entry in enumerate(entries):
            lines.append("      " + json.dumps(entry) + ("," if j < len(entries) - 1 else ""))
        lines.append("    ]")
        lines.append("  }" + ("," if i < len(keys) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(path=OUT):
    layouts = all_layouts()
    text = to_json(layouts)
    assert json.loads(text) == json.loads(json.dumps(layouts))
    with open(path, "w") as f:
        f.write(text)
    return layouts


def main():
    layouts = write()
    for name, item in layouts.items():
        n_buf = sum(1 for e in item["entries"] if e[2] == "buffer")
        print(f"{name:16s} {item['num_parameters']:>12,} parameters  "
              f"{len(item['entries']):4d} entries ({n_buf} buffers)")
    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT):,} bytes)")


if __name__ == "__main__":
    main()

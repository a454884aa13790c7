// `model.py` of `unetc export --to pytorch`: a plain PyTorch module for a checked model. Its
// state_dict() has unetc's parameter paths as names (the course's names for the lesson's models),
// its forward computes what unetc's lowering computes, in eval and in train mode, and the file
// needs nothing but torch. train.py and unetc_io.py (runtime/export) import it.
import { modelTask, modelTotals, type ModelGraph } from "../../check/model-graph.js";
import { emitForward } from "./forward.js";
import { buildModuleTree, treeStateDict, type ModuleNode } from "./module-tree.js";
import { className, isAttributeName, pyList, pyString } from "./python.js";

export interface PytorchModelOptions {
  /** The spec as given, for the header. */
  readonly specPath: string;
  readonly overrides: readonly string[];
  /** unetc's version, for the header. */
  readonly version?: string;
}

const WIDTH = 110;

/** A module's constructor expression, on one line when it fits, else one child per line. */
function ctorText(m: ModuleNode, indent: string): string {
  switch (m.kind) {
    case "leaf":
    case "parameter":
      return m.ctor!;
    case "identity":
      return "nn.Identity()";
    case "root":
      throw new Error("internal: the root has no constructor");
    default:
      break;
  }
  const inner = `${indent}    `;
  const kids = [...m.children.values()];
  const named = m.kind === "block";
  const items = kids.map((c) => ({ c, text: ctorText(c, inner) }));
  const keyed = (c: ModuleNode, text: string): string => (!named ? text : isAttributeName(c.name) ? `${c.name}=${text}` : `**{${pyString(c.name)}: ${text}}`);
  const [open, close] = m.kind === "block" ? ["Block(", ")"] : m.kind === "sequential" ? ["nn.Sequential(", ")"] : ["nn.ModuleList([", "])"];
  const oneLine = `${open}${items.map(({ c, text }) => keyed(c, text)).join(", ")}${close}`;
  if (!oneLine.includes("\n") && indent.length + oneLine.length <= WIDTH) return oneLine;
  return `${open}\n${items.map(({ c, text }) => `${inner}${keyed(c, text)},`).join("\n")}\n${indent}${close}`;
}

function initLines(root: ModuleNode): string[] {
  const I = "        ";
  return [...root.children.values()].map((c) => {
    const text = ctorText(c, I);
    if (isAttributeName(c.name)) return `${I}self.${c.name} = ${text}`;
    return c.kind === "parameter" ? `${I}self.register_parameter(${pyString(c.name)}, ${text})` : `${I}self.add_module(${pyString(c.name)}, ${text})`;
  });
}

const HELPERS = `def timestep_embedding(t, dim, max_period=10000.0, freq_shift=1.0, flip=False):
    """Sinusoidal embedding of noise levels t [B] -> [B, dim]: frequencies
    exp(-ln(max_period) * k / (dim // 2 - freq_shift)), k = 0 .. dim // 2 - 1, computed in float64
    and rounded to t's dtype (the course's linspace form is freq_shift = 1; diffusers' UNet2DModel
    uses freq_shift = 0 and flip = True); [sin | cos], or [cos | sin] when flip; a zero column
    when dim is odd."""
    half = dim // 2
    dtype = t.dtype if t.is_floating_point() else torch.float32
    k = torch.arange(half, dtype=torch.float64, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / (half - freq_shift)).to(dtype)
    args = t.to(dtype)[:, None] * freqs[None, :]
    emb = torch.cat([args.cos(), args.sin()] if flip else [args.sin(), args.cos()], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 == 1 else emb


def attention(qkv, heads, layout="per_head"):
    """Multi-head self-attention core, softmax(q k^T / sqrt(d)) v: qkv [B, S, 3C] -> [B, S, C] with
    C = heads * d. layout "per_head": head i owns features [3d i, 3d (i + 1)) laid out [q_i | k_i | v_i]
    (the course's SelfAttention); "blocks": [q | k | v], each C wide, heads of d inside each
    (diffusers' separate to_q, to_k, to_v)."""
    b, s, c3 = qkv.shape
    d = c3 // (3 * heads)
    if layout == "blocks":
        qkv = qkv.reshape(b, s, 3, heads, d).transpose(2, 3)
    qkv = qkv.reshape(b, s, heads, 3 * d).transpose(1, 2)  # [B, heads, S, 3d]
    q, k, v = qkv.chunk(3, dim=-1)
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
    out = scores.softmax(dim=-1) @ v  # [B, heads, S, d]
    return out.transpose(1, 2).reshape(b, s, heads * d)


class Block(nn.Module):
    """A named group of layers (a block of the spec). Its computation is written out in the
    model's forward, so the module tree only holds parameters, with unetc's names."""

    def __init__(self, **children):
        super().__init__()
        for name, child in children.items():
            if isinstance(child, nn.Parameter):
                self.register_parameter(name, child)
            else:
                self.add_module(name, child)
`;

/** The whole model.py. */
export function emitPytorchModel(model: ModelGraph, o: PytorchModelOptions): string {
  const tree = buildModuleTree(model);
  const names = treeStateDict(tree);
  const expected = model.parameters.map((p) => p.name);
  if (names.length !== expected.length || [...names].sort().join("\n") !== [...expected].sort().join("\n")) {
    throw new Error(`internal: the exported module's state_dict differs from the spec's parameters`);
  }
  const fwd = emitForward(model, tree);
  const cls = className(model.name);
  const totals = modelTotals(model);
  const task = modelTask(model);
  const outShape = model.nodes[model.output].shape;
  const describe = model.inputs.map((i) => {
    const what = i.kind === "image" ? `image [B, ${i.shape.join(", ")}] float` : i.kind === "timestep" ? "noise level [B] float" : `class label [B] int64 in [0, ${i.classes})`;
    return `        ${fwd.args[model.inputs.indexOf(i)]}: ${what}`;
  });
  // `arg`: the forward's parameter for the input (its name, unless that is a Python keyword).
  const inputs = model.inputs.map(
    (i, k) => `    {"name": ${pyString(i.name)}, "arg": ${pyString(fwd.args[k])}, "kind": ${pyString(i.kind)}, "shape": ${pyList(i.shape)}${i.classes !== undefined ? `, "classes": ${i.classes}` : ""}},`,
  );
  const args = [...fwd.args, ...(fwd.taps.length ? ["return_taps=False"] : [])].join(", ");
  const setText = o.overrides.length ? ` --set ${o.overrides.join(" --set ")}` : "";
  return [
    `"""${model.name}: a PyTorch module written by \`unetc export ${o.specPath}${setText} --to pytorch\`${o.version ? ` (unetc ${o.version})` : ""}.`,
    "",
    `state_dict() names and shapes are unetc's parameter paths, so unetc checkpoints load with`,
    `load_state_dict(strict=True) (unetc_io.load_state_dict) and train.py writes checkpoints unetc reads.`,
    `${totals.parameters.toLocaleString("en-US")} parameters. Edit freely: the forward is written out layer by layer.`,
    `"""`,
    "",
    "import math",
    "",
    "import torch",
    "import torch.nn.functional as F",
    "from torch import nn",
    "",
    `MODEL_NAME = ${pyString(model.name)}`,
    `# "denoise": predicts the noise (or the preconditioned target) from the inputs; "classify": logits.`,
    `TASK = ${pyString(task)}`,
    "INPUTS = [",
    ...inputs,
    "]",
    `OUTPUT_SHAPE = ${pyList(outShape)}`,
    `TAPS = [${fwd.taps.map(pyString).join(", ")}]`,
    "",
    "",
    HELPERS,
    "",
    `class ${cls}(nn.Module):`,
    `    """${model.name} (${o.specPath}${setText}).`,
    "",
    "    forward inputs:",
    ...describe,
    `    output: [B, ${outShape.join(", ")}]${fwd.taps.length ? `; with return_taps=True also a dict of the named taps (${fwd.taps.join(", ")})` : ""}`,
    `    """`,
    "",
    "    def __init__(self):",
    "        super().__init__()",
    ...initLines(tree.root),
    "",
    `    def forward(self, ${args}):`,
    ...(fwd.taps.length ? ["        taps = {}"] : []),
    ...fwd.lines,
    "",
    "",
    "def build_model():",
    `    return ${cls}()`,
    "",
  ].join("\n");
}

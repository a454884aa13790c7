// The PyTorch module tree of a checked model: every parameter's dotted path becomes a chain of
// containers ending in a standard layer (nn.Conv2d, nn.Linear, ...) or an nn.Parameter, so the
// module's state_dict() names are exactly unetc's parameter paths. A container whose children
// are numbered (a `seq` of the spec) becomes an nn.Sequential when its layers form a chain the
// forward can call in one go (the course's `conv1 = Sequential(BatchNorm2d, SiLU, Conv2d)`),
// an nn.ModuleList otherwise; a container with named children is a `Block`.
import type { LayerNode, ModelGraph, ParamSpec } from "../../check/model-graph.js";
import { UserError } from "../../diagnostics/user-error.js";
import { MODULE_ATTRIBUTES, pyFloat, pyNumber } from "./python.js";

export type ModuleKind = "root" | "block" | "list" | "sequential" | "leaf" | "parameter" | "identity";

export interface ModuleNode {
  readonly path: string;
  readonly name: string;
  kind: ModuleKind;
  readonly children: Map<string, ModuleNode>;
  /** A leaf's constructor (`nn.Conv2d(8, 16, 3, padding=1)`) or a parameter's (`nn.Parameter(...)`). */
  ctor?: string;
  /** The layer node a leaf or parameter stands for. */
  node?: LayerNode;
}

/** A module the forward calls with one tensor: its path, the node it reads and the node it makes. */
export interface CallUnit {
  readonly path: string;
  readonly input: number;
  readonly output: number;
  /** Every layer node the call computes. */
  readonly nodes: readonly number[];
}

export interface ModuleTree {
  readonly root: ModuleNode;
  readonly byPath: ReadonlyMap<string, ModuleNode>;
  /** Callable units (leaves and sequentials) by the node they output, outermost only. */
  readonly units: ReadonlyMap<number, CallUnit>;
}

const isIndex = (s: string): boolean => /^\d+$/.test(s);

/** nn.Upsample with a power-of-two factor is exact nearest-neighbour; other factors repeat explicitly (forward.ts). */
export const exactUpsample = (f: number): boolean => Number.isInteger(Math.log2(f));

/** torch's default for an attribute is omitted from a constructor. */
const opt = (name: string, value: number, fallback: number): string[] => (value === fallback ? [] : [`${name}=${pyNumber(value)}`]);

/** The PyTorch layer for a node with parameters, and the local names of its state_dict entries. */
function layerCtor(n: LayerNode, inShape: readonly number[]): { ctor: string; locals: string[] } {
  const shapeOf = (local: string): number[] => n.params.find((p) => p.name.endsWith(`.${local}`) || p.name === local)!.shape;
  const hasBias = n.params.some((p) => p.name.endsWith(".bias"));
  const wb = hasBias ? ["weight", "bias"] : ["weight"];
  switch (n.op) {
    case "conv2d": {
      const [out, inn, k] = shapeOf("weight");
      const args = [String(inn), String(out), String(k), ...opt("stride", n.attrs.stride, 1), ...opt("padding", n.attrs.padding, 0), ...(hasBias ? [] : ["bias=False"])];
      return { ctor: `nn.Conv2d(${args.join(", ")})`, locals: wb };
    }
    case "linear": {
      const [out, inn] = shapeOf("weight");
      return { ctor: `nn.Linear(${[String(inn), String(out), ...(hasBias ? [] : ["bias=False"])].join(", ")})`, locals: wb };
    }
    case "embedding": {
      const [num, dim] = shapeOf("weight");
      return { ctor: `nn.Embedding(${num}, ${dim})`, locals: ["weight"] };
    }
    case "batchnorm": {
      const kind = inShape.length === 3 ? "BatchNorm2d" : "BatchNorm1d";
      const args = [String(n.shape[0]), ...opt("eps", n.attrs.eps, 1e-5), ...opt("momentum", n.attrs.momentum, 0.1)];
      return { ctor: `nn.${kind}(${args.join(", ")})`, locals: ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"] };
    }
    case "groupnorm":
      return { ctor: `nn.GroupNorm(${[String(n.attrs.groups), String(n.shape[0]), ...opt("eps", n.attrs.eps, 1e-5)].join(", ")})`, locals: ["weight", "bias"] };
    case "layernorm":
      return { ctor: `nn.LayerNorm(${[String(n.shape[n.shape.length - 1]), ...opt("eps", n.attrs.eps, 1e-5)].join(", ")})`, locals: ["weight", "bias"] };
    default:
      throw new Error(`internal: the PyTorch export has no layer for \`${n.op}\` with parameters`);
  }
}

/** A parameter-free layer as a module, for a numbered item of a `seq`; undefined where none fits. */
function freeLayerCtor(n: LayerNode, batched: boolean): string | undefined {
  switch (n.op) {
    case "silu":
      return "nn.SiLU()";
    case "gelu":
      return "nn.GELU()";
    case "relu":
      return "nn.ReLU()";
    case "sigmoid":
      return "nn.Sigmoid()";
    case "tanh":
      return "nn.Tanh()";
    case "upsample":
      return exactUpsample(n.attrs.factor) ? `nn.Upsample(scale_factor=${pyFloat(n.attrs.factor)}, mode="nearest")` : undefined;
    case "flatten":
      return batched ? "nn.Flatten()" : undefined;
    default:
      return undefined;
  }
}

function parameterCtor(p: ParamSpec): string {
  const dims = p.shape.join(", ");
  switch (p.init.kind) {
    case "zeros":
      return `nn.Parameter(torch.zeros(${dims}))`;
    case "ones":
      return `nn.Parameter(torch.ones(${dims}))`;
    case "normal":
      return p.init.std === 1 ? `nn.Parameter(torch.randn(${dims}))` : `nn.Parameter(torch.randn(${dims}) * ${pyFloat(p.init.std)})`;
    case "uniform_fan_in":
      return `nn.Parameter((torch.rand(${dims}) * 2 - 1) / math.sqrt(${p.init.fanIn}))`;
  }
}

class TreeBuilder {
  readonly root: ModuleNode = { path: "", name: "", kind: "root", children: new Map() };
  readonly byPath = new Map<string, ModuleNode>([["", this.root]]);

  /** The node at `path`, creating containers on the way. */
  place(path: string): ModuleNode {
    const have = this.byPath.get(path);
    if (have) return have;
    const cut = path.lastIndexOf(".");
    const parent = this.place(cut < 0 ? "" : path.slice(0, cut));
    if (parent.kind === "leaf" || parent.kind === "parameter") throw new Error(`internal: \`${path}\` lies inside the layer \`${parent.path}\``);
    const name = path.slice(cut + 1);
    if (MODULE_ATTRIBUTES.has(name)) {
      throw new UserError(`the PyTorch export cannot name a module or parameter \`${name}\` (in \`${path}\`): nn.Module has an attribute of that name; rename it in the spec (\`as ...\`)`);
    }
    const node: ModuleNode = { path, name, kind: "block", children: new Map() };
    parent.children.set(name, node);
    this.byPath.set(path, node);
    return node;
  }

  setLeaf(path: string, kind: "leaf" | "parameter", ctor: string, node: LayerNode): void {
    const m = this.place(path);
    if (m.kind !== "block" || m.children.size > 0) throw new Error(`internal: two layers at \`${path}\``);
    Object.assign(m, { kind, ctor, node });
  }
}

/** Which nodes carry the batch axis, as lowering decides (compiler/layers/def.ts). */
export function batchedNodes(model: ModelGraph): boolean[] {
  const out: boolean[] = [];
  for (const n of model.nodes) {
    const first = n.inputs.length ? out[n.inputs[0]] : true;
    switch (n.op) {
      case "const":
      case "param":
        out[n.id] = false;
        break;
      case "add":
      case "sub":
      case "mul":
      case "div":
        out[n.id] = n.inputs.some((i) => out[i]);
        break;
      case "linear":
      case "layernorm":
      case "silu":
      case "gelu":
      case "relu":
      case "sigmoid":
      case "tanh":
      case "flatten":
      case "mean_pool":
      case "slice":
      case "tap":
        out[n.id] = first;
        break;
      default:
        out[n.id] = true;
    }
  }
  return out;
}

/** How many times each node's value is read (the model's output counts once). */
export function useCounts(model: ModelGraph): number[] {
  const uses = model.nodes.map(() => 0);
  for (const n of model.nodes) for (const i of n.inputs) uses[i]++;
  uses[model.output]++;
  return uses;
}

export function buildModuleTree(model: ModelGraph): ModuleTree {
  const t = new TreeBuilder();
  const batched = batchedNodes(model);
  const pathCount = new Map<string, number>();
  for (const n of model.nodes) pathCount.set(n.path, (pathCount.get(n.path) ?? 0) + 1);

  // Layers with parameters first, so a parameter-free layer never takes a container's place.
  for (const n of model.nodes) {
    if (n.op === "param") {
      t.setLeaf(n.params[0].name, "parameter", parameterCtor(n.params[0]), n);
    } else if (n.params.length > 0) {
      const inShape = n.inputs.length ? model.nodes[n.inputs[0]].shape : [];
      const { ctor, locals } = layerCtor(n, inShape);
      const names = n.params.map((p) => p.name);
      const want = locals.map((l) => `${n.path}.${l}`);
      if (names.length !== want.length || names.some((x, i) => x !== want[i])) {
        throw new Error(`internal: \`${n.path}\` (${n.op}) has parameters ${names.join(", ")}; PyTorch's layer has ${want.join(", ")}`);
      }
      t.setLeaf(n.path, "leaf", ctor, n);
    }
  }
  // A numbered `seq` item that is one parameter-free layer gets its module (nn.SiLU, ...).
  const deeper = (path: string): boolean => model.nodes.some((m) => m.path.startsWith(`${path}.`));
  for (const n of model.nodes) {
    if (n.op === "param" || n.params.length > 0 || !n.path) continue;
    const last = n.path.split(".").pop() ?? "";
    if (!isIndex(last) || pathCount.get(n.path) !== 1 || t.byPath.has(n.path) || deeper(n.path)) continue;
    const ctor = freeLayerCtor(n, batched[n.id]);
    if (ctor) t.setLeaf(n.path, "leaf", ctor, n);
  }

  // Containers: numbered children make a list (gaps filled with nn.Identity), otherwise a Block.
  for (const m of t.byPath.values()) {
    if (m.kind !== "block" || m.children.size === 0) continue;
    const names = [...m.children.keys()];
    const numbered = names.every(isIndex) && ![...m.children.values()].some((c) => c.kind === "parameter");
    if (!numbered) continue;
    m.kind = "list";
    const count = Math.max(...names.map(Number)) + 1;
    const ordered = new Map<string, ModuleNode>();
    for (let i = 0; i < count; i++) {
      const key = String(i);
      ordered.set(key, m.children.get(key) ?? { path: m.path ? `${m.path}.${key}` : key, name: key, kind: "identity", children: new Map() });
    }
    m.children.clear();
    for (const [k, v] of ordered) m.children.set(k, v);
  }

  return { root: t.root, byPath: t.byPath, units: findUnits(model, t) };
}

/** Nodes whose path is `path` or lies under it. */
function nodesUnder(model: ModelGraph, path: string): number[] {
  return model.nodes.filter((n) => n.path === path || n.path.startsWith(`${path}.`)).map((n) => n.id);
}

/** Leaves and chains of numbered layers the forward calls as one module; lists that chain become sequentials. */
function findUnits(model: ModelGraph, t: TreeBuilder): Map<number, CallUnit> {
  const uses = useCounts(model);
  const memo = new Map<string, CallUnit | null>();
  const unitOf = (m: ModuleNode): CallUnit | null => {
    const hit = memo.get(m.path);
    if (hit !== undefined) return hit;
    let unit: CallUnit | null = null;
    if (m.kind === "leaf" && m.node) {
      const under = nodesUnder(model, m.path);
      if (m.node.inputs.length === 1 && under.length === 1) unit = { path: m.path, input: m.node.inputs[0], output: m.node.id, nodes: [m.node.id] };
    } else if (m.kind === "list" && !model.nodes.some((n) => n.path === m.path)) {
      const parts = [...m.children.values()].map(unitOf);
      const chained = parts.every((u, i): u is CallUnit => u !== null && (i === 0 || (u.input === parts[i - 1]!.output && uses[parts[i - 1]!.output] === 1)));
      if (chained) {
        const nodes = parts.flatMap((u) => u!.nodes);
        if (nodes.length === nodesUnder(model, m.path).length) {
          unit = { path: m.path, input: parts[0]!.input, output: parts[parts.length - 1]!.output, nodes };
          m.kind = "sequential";
        }
      }
    }
    memo.set(m.path, unit);
    return unit;
  };
  for (const m of t.byPath.values()) unitOf(m);
  // Keep the outermost: a unit inside a sequential is called through it.
  const units = new Map<number, CallUnit>();
  const inside = new Set<number>();
  const all = [...memo.values()].filter((u): u is CallUnit => u !== null).sort((a, b) => b.nodes.length - a.nodes.length);
  for (const u of all) {
    if (inside.has(u.output)) continue;
    units.set(u.output, u);
    for (const id of u.nodes) inside.add(id);
  }
  return units;
}

/** The state_dict names and shapes the tree's module will have, in PyTorch's order. */
export function treeStateDict(tree: ModuleTree): string[] {
  const out: string[] = [];
  // A module's own parameters come before its children's, as in nn.Module.state_dict().
  const walk = (m: ModuleNode): void => {
    if (m.kind === "leaf" && m.node) for (const p of m.node.params) out.push(p.name);
    const children = [...m.children.values()];
    for (const c of children) if (c.kind === "parameter") out.push(c.path);
    for (const c of children) if (c.kind !== "parameter") walk(c);
  };
  walk(tree.root);
  return out;
}

// The forward method of the exported module: one statement per layer node of the checked model,
// in the model's order, with the semantics lowering gives each node (compiler/layers). Numbered
// chains are one nn.Sequential call, chunks one `.chunk`, short single-use values are inlined into
// their reader, and variables are named by what made them (`conv1`, `emb_proj`, `h`) and reused
// once dead, so the code reads like a hand-written forward. Statements are grouped by the block
// they belong to, with the block's module bound to `m`.
import { alignedShape } from "../../check/broadcast.js";
import type { LayerNode, ModelGraph } from "../../check/model-graph.js";
import { batchedNodes, exactUpsample, useCounts, type CallUnit, type ModuleNode, type ModuleTree } from "./module-tree.js";
import { isAttributeName, pyFloat, pyString } from "./python.js";

interface Expr {
  readonly text: string;
  /** A name, call, literal or subscript: safe as an operand without parentheses. */
  readonly atom: boolean;
}

type Item =
  | { readonly kind: "node"; readonly node: LayerNode; readonly defines: readonly number[]; readonly reads: readonly number[] }
  | { readonly kind: "unit"; readonly unit: CallUnit; readonly node: LayerNode; readonly defines: readonly number[]; readonly reads: readonly number[] }
  | { readonly kind: "chunk"; readonly nodes: readonly LayerNode[]; readonly node: LayerNode; readonly defines: readonly number[]; readonly reads: readonly number[] }
  | { readonly kind: "tap"; readonly node: LayerNode & { op: "tap" }; readonly defines: readonly number[]; readonly reads: readonly number[] };

/** Values cheap and clear enough to write inside their only reader. */
const INLINE = new Set(["silu", "gelu", "relu", "sigmoid", "tanh", "add", "sub", "mul", "div", "flatten", "mean_pool", "upsample"]);
const ARITH: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/" };
const UNARY: Record<string, string> = { silu: "F.silu", gelu: "F.gelu", relu: "F.relu", sigmoid: "torch.sigmoid", tanh: "torch.tanh" };
/** Names the forward never gives a value. */
const RESERVED = new Set(["self", "m", "F", "nn", "torch", "math", "taps", "return_taps", "attention", "timestep_embedding", "Block"]);

export interface ForwardCode {
  /** The forward's parameters, in the model's input order (Python-safe names). */
  readonly args: readonly string[];
  /** The body, indented by 8 spaces. */
  readonly lines: readonly string[];
  readonly taps: readonly string[];
}

const atom = (text: string): Expr => ({ text, atom: true });
const wrap = (e: Expr): string => (e.atom ? e.text : `(${e.text})`);

/** `x[:, :, None, None]`: a batched operand reshaped to line up with the result, as lowering does. */
function alignIndex(own: readonly number[], out: readonly number[]): string | undefined {
  const to = alignedShape(own, out);
  if (to === own || to.length === own.length) return undefined;
  const dims = own.length === 0 ? to.map(() => "None") : out.length === 3 ? [":", "None", "None"] : ["None", ":"];
  return `[:, ${dims.join(", ")}]`;
}

/** The tree node at `path` or its nearest ancestor there is one for. */
function nearest(tree: ModuleTree, path: string): ModuleNode {
  for (let p = path; ; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const m = tree.byPath.get(p);
    if (m) return m;
    if (p === "") return tree.root;
  }
}

const parentPath = (p: string): string => (p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "");

/** The Block (or the model) a module belongs to: statements are grouped by it. */
function sectionOf(tree: ModuleTree, m: ModuleNode): string {
  let cur: ModuleNode = m;
  while (cur.kind !== "block" && cur.kind !== "root") cur = nearest(tree, parentPath(cur.path));
  return cur.path;
}

export function emitForward(model: ModelGraph, tree: ModuleTree): ForwardCode {
  const nodes = model.nodes;
  const batched = batchedNodes(model);
  // A tap is its input under another name.
  const res = (id: number): number => (nodes[id].op === "tap" ? res(nodes[id].inputs[0]) : id);
  const free = (id: number): boolean => nodes[id].op === "const" || nodes[id].op === "param";
  const out = res(model.output);
  const taps = nodes.filter((n) => n.op === "tap").map((n) => (n.op === "tap" ? n.attrs.name : ""));

  // ---- items: what the forward computes, in order ----
  const inUnit = new Set<number>();
  for (const u of tree.units.values()) for (const id of u.nodes) if (id !== u.output) inUnit.add(id);
  const items: Item[] = [];
  const taken = new Set<number>();
  const readsOf = (ids: readonly number[]): number[] => ids.map(res).filter((i) => !free(i));
  for (const n of nodes) {
    if (n.op === "input" || free(n.id) || inUnit.has(n.id) || taken.has(n.id)) continue;
    const unit = tree.units.get(n.id);
    if (n.op === "tap") items.push({ kind: "tap", node: n, defines: [], reads: readsOf(n.inputs) });
    else if (unit) items.push({ kind: "unit", unit, node: n, defines: [n.id], reads: readsOf([unit.input]) });
    else if (n.op === "slice") {
      const group = chunkGroup(model, n);
      for (const g of group) taken.add(g.id);
      items.push(group.length > 1 ? { kind: "chunk", nodes: group, node: n, defines: group.map((g) => g.id), reads: readsOf(n.inputs) } : { kind: "node", node: n, defines: [n.id], reads: readsOf(n.inputs) });
    } else items.push({ kind: "node", node: n, defines: [n.id], reads: readsOf(n.inputs) });
  }

  // ---- uses, readers and inlining ----
  const uses = useCounts(model).map(() => 0);
  items.forEach((it) => it.reads.forEach((r) => uses[r]++));
  uses[out]++;
  const readers = new Map<number, number[]>();
  items.forEach((it, j) => it.reads.forEach((r) => readers.set(r, [...(readers.get(r) ?? []), j])));
  const sectionOfItem = (it: Item): string => sectionOf(tree, it.kind === "unit" ? nearest(tree, parentPath(it.unit.path)) : nearest(tree, it.node.path));
  const sections = items.map(sectionOfItem);
  const inlined = new Map<number, number>(); // node id -> item index
  const itemOf = new Map<number, number>();
  items.forEach((it, j) => {
    for (const d of it.defines) itemOf.set(d, j);
    if (it.kind !== "node" || !INLINE.has(it.node.op)) return;
    const d = it.node.id;
    const r = readers.get(d) ?? [];
    const simple = !ARITH[it.node.op] || it.reads.every((x) => !inlined.has(x));
    const next = items[j + 1];
    // Only within a block: a value written into the next block's first line reads as if it were that block's.
    const sameBlock = next !== undefined && sections[j] === sections[j + 1];
    if (d !== out && uses[d] === 1 && r.length === 1 && r[0] === j + 1 && simple && sameBlock && next.kind !== "tap") inlined.set(d, j);
  });
  const statements = items.map((it, j) => ({ it, j })).filter(({ it }) => !(it.defines.length === 1 && inlined.has(it.defines[0])));

  // ---- liveness: the last statement that reads each variable ----
  const varReads = (it: Item): number[] => it.reads.flatMap((r) => (inlined.has(r) ? varReads(items[inlined.get(r)!]) : [r]));
  const lastUse = new Map<number, number>();
  statements.forEach(({ it }, s) => varReads(it).forEach((r) => lastUse.set(r, s)));
  lastUse.set(out, Infinity);

  // ---- names ----
  const names = new Map<number, string>();
  const holder = new Map<string, number>();
  const args: string[] = [];
  for (const i of model.inputs) {
    const name = isAttributeName(i.name) && !RESERVED.has(i.name) ? i.name : `${i.name}_`;
    args.push(name);
    names.set(i.node, name);
    holder.set(name, i.node);
  }
  const nameFor = (id: number, base: string, s: number): string => {
    for (let k = 1; ; k++) {
      const cand = k === 1 ? base : `${base}_${k}`;
      if (RESERVED.has(cand) || !isAttributeName(cand)) continue;
      const h = holder.get(cand);
      if (h === undefined || (lastUse.get(h) ?? -1) <= s) {
        holder.set(cand, id);
        names.set(id, cand);
        return cand;
      }
    }
  };

  // ---- text ----
  let base = ""; // the section's module, bound to `m`
  let refs = 0;
  const access = (path: string): string => {
    let text = "self";
    let from = "";
    if (base && path.startsWith(`${base}.`)) {
      text = "m";
      from = base;
      refs++;
    }
    let cur = tree.byPath.get(from)!;
    for (const part of path.slice(from ? from.length + 1 : 0).split(".")) {
      text = cur.kind === "list" || cur.kind === "sequential" ? `${text}[${part}]` : isAttributeName(part) ? `${text}.${part}` : `getattr(${text}, ${pyString(part)})`;
      cur = cur.children.get(part)!;
    }
    return text;
  };
  const ref = (id: number): Expr => {
    const r = res(id);
    const n = nodes[r];
    if (n.op === "const") return atom(pyFloat(n.attrs.value));
    if (n.op === "param") return atom(access(n.params[0].name));
    const j = inlined.get(r);
    if (j !== undefined) return build(items[j]).expr;
    return atom(names.get(r)!);
  };
  const build = (it: Item): { expr: Expr; comment?: string } => {
    if (it.kind === "unit") return { expr: atom(`${access(it.unit.path)}(${ref(it.unit.input).text})`) };
    if (it.kind === "tap") return { expr: ref(it.node.inputs[0]) };
    if (it.kind === "chunk") {
      const n = it.node;
      const axis = n.op === "slice" ? n.attrs.axis + (batched[n.id] ? 1 : 0) : 0;
      return { expr: atom(`${wrap(ref(n.inputs[0]))}.chunk(${it.nodes.length}, dim=${axis})`) };
    }
    return nodeExpr(it.node);
  };
  const nodeExpr = (n: LayerNode): { expr: Expr; comment?: string } => {
    const x = (k = 0): Expr => ref(n.inputs[k]);
    const lead = batched[n.id] ? 1 : 0;
    switch (n.op) {
      case "add":
      case "sub":
      case "mul":
      case "div": {
        const operand = (k: number): string => {
          const id = n.inputs[k];
          const e = ref(id);
          const idx = batched[res(id)] ? alignIndex(nodes[res(id)].shape, n.shape) : undefined;
          return idx ? `${wrap(e)}${idx}` : wrap(e);
        };
        return { expr: { text: `${operand(0)} ${ARITH[n.op]} ${operand(1)}`, atom: false } };
      }
      case "silu":
      case "gelu":
      case "relu":
      case "sigmoid":
      case "tanh":
        return { expr: atom(`${UNARY[n.op]}(${x().text})`) };
      case "conv2d":
      case "linear":
      case "batchnorm":
      case "groupnorm":
      case "layernorm":
      case "embedding":
        return { expr: atom(`${access(n.path)}(${x().text})`) };
      case "sinusoidal": {
        const a = n.attrs;
        return { expr: atom(`timestep_embedding(${x().text}, ${a.dim}, max_period=${pyFloat(a.max_period)}, freq_shift=${pyFloat(a.freq_shift)}, flip=${a.flip ? "True" : "False"})`) };
      }
      case "upsample": {
        const f = n.attrs.factor;
        if (exactUpsample(f)) return { expr: atom(`F.interpolate(${x().text}, scale_factor=${pyFloat(f)}, mode="nearest")`) };
        return { expr: atom(`${wrap(x())}.repeat_interleave(${f}, dim=2).repeat_interleave(${f}, dim=3)`) };
      }
      case "flatten":
        return { expr: atom(`${wrap(x())}.flatten(${lead})`) };
      case "mean_pool": {
        const own = nodes[n.inputs[0]].shape.length;
        const axes = own === 3 ? [lead + 1, lead + 2] : [lead];
        return { expr: atom(`${wrap(x())}.mean(dim=${axes.length === 1 ? axes[0] : `(${axes.join(", ")})`})`) };
      }
      case "concat":
        return { expr: atom(`torch.cat([${n.inputs.map((i) => ref(i).text).join(", ")}], dim=${n.attrs.axis + 1})`) };
      case "slice": {
        const axis = n.attrs.axis + lead;
        return { expr: atom(`${wrap(x())}[${":, ".repeat(axis)}${n.attrs.start}:${n.attrs.end}]`) };
      }
      case "attention":
        return { expr: atom(`attention(${x().text}, heads=${n.attrs.heads}${n.attrs.layout === "blocks" ? ', layout="blocks"' : ""})`) };
      case "rearrange": {
        const { inShape, perm, pattern } = n.attrs;
        const text = `${wrap(x())}.reshape(-1, ${inShape.join(", ")}).permute(0, ${perm.map((p) => p + 1).join(", ")}).reshape(-1, ${n.shape.join(", ")})`;
        return { expr: atom(text), comment: `rearrange ${pyString(pattern)}` };
      }
      case "input":
      case "const":
      case "param":
      case "tap":
        return { expr: ref(n.id) };
    }
  };

  const baseName = (it: Item): string => {
    const n = it.node;
    // A vector many blocks read is the conditioning (the time embedding, plus the class's).
    if (it.defines.length === 1 && n.shape.length === 1 && uses[n.id] > 2) return "emb";
    if (it.kind === "unit") {
      const part = it.unit.path.split(".").reverse().find((p) => !/^\d+$/.test(p));
      if (part) return part;
    } else if (n.params.length > 0) {
      const part = n.path.split(".").reverse().find((p) => !/^\d+$/.test(p));
      if (part) return part;
    }
    if (n.op === "attention") return "attn";
    if (n.op === "concat") return "cat";
    if (n.op === "sinusoidal") return "temb";
    const rank = n.shape.length;
    return rank === 3 ? "h" : rank === 2 ? "tok" : rank === 1 ? "v" : "s";
  };

  const I = "        ";
  const groups: Array<{ section: string; statements: typeof statements }> = [];
  for (const st of statements) {
    const sec = sections[st.j];
    if (!groups.length || groups[groups.length - 1].section !== sec) groups.push({ section: sec, statements: [] });
    groups[groups.length - 1].statements.push(st);
  }
  const final = statements.length - 1;
  const returnsLast = final >= 0 && statements[final].it.defines.length === 1 && statements[final].it.defines[0] === out;
  const sectionAccess = (section: string): string => {
    const b = base;
    base = "";
    const t = access(section);
    base = b;
    return t;
  };

  const lines: string[] = [];
  let lastHeaded = false;
  let s = 0;
  for (const g of groups) {
    const start = s;
    const saved = { names: new Map(names), holder: new Map(holder) };
    // A group is written with its block bound to `m`, and again without when that saves nothing.
    const render = (alias: boolean): string[] => {
      s = start;
      names.clear();
      saved.names.forEach((v, k) => names.set(k, v));
      holder.clear();
      saved.holder.forEach((v, k) => holder.set(k, v));
      base = "";
      const body: string[] = alias && g.section.includes(".") ? [`${I}m = ${sectionAccess(g.section)}`] : [];
      base = body.length ? g.section : "";
      refs = 0;
      for (const { it } of g.statements) {
        const { expr, comment } = build(it);
        const tail = comment ? `  # ${comment}` : "";
        if (it.kind === "tap") body.push(`${I}taps[${pyString(it.node.attrs.name)}] = ${expr.text}`);
        else if (returnsLast && s === final) body.push(`${I}${taps.length ? "out = " : "return "}${expr.text}${tail}`);
        else body.push(`${I}${it.defines.map((d) => nameFor(d, baseName(it), s)).join(", ")} = ${expr.text}${tail}`);
        s++;
      }
      return body;
    };
    let body = render(true);
    if (base && refs < 2) body = render(false);
    // A block of a line or two whose calls name it already joins its neighbours' paragraph;
    // others get a blank line and a header.
    const headed = g.section !== "" && (base !== "" || g.statements.length >= 3);
    if (lines.length && (headed || lastHeaded)) lines.push("");
    if (headed) lines.push(`${I}# ${g.section}`);
    lines.push(...body);
    lastHeaded = headed;
    base = "";
  }
  const outName = returnsLast ? "out" : ref(out).text;
  if (taps.length) lines.push(`${I}return (${outName}, taps) if return_taps else ${outName}`);
  else if (!returnsLast) lines.push(`${I}return ${outName}`);
  return { args, lines, taps };
}

/** Consecutive slices of one value that split an axis into equal parts (a `chunk` of the spec). */
function chunkGroup(model: ModelGraph, first: LayerNode): LayerNode[] {
  if (first.op !== "slice" || first.attrs.start !== 0) return [first];
  const src = first.inputs[0];
  const width = first.attrs.end - first.attrs.start;
  const total = model.nodes[src].shape[first.attrs.axis];
  const group: LayerNode[] = [first];
  for (let id = first.id + 1; id < model.nodes.length && group.length * width < total; id++) {
    const n = model.nodes[id];
    if (n.op !== "slice" || n.inputs[0] !== src || n.attrs.axis !== first.attrs.axis || n.attrs.start !== group.length * width || n.attrs.end !== (group.length + 1) * width) break;
    group.push(n);
  }
  return group.length * width === total ? group : [first];
}


// GraphBuilder: the one way graphs are made (by the lowering, autodiff and the training
// step). Every op goes through the registry's shape rule as it is added, so a built graph
// is well-typed by construction; verifyGraph re-checks that after each pass in tests.

import type { OpKind, OpParams } from "../ir/kinds.js";
import { registry } from "../ops/index.js";
import { check } from "../ops/def.js";
import type { OpEmitter, Operand } from "../ops/emitter.js";
import { normalizeAxis, numel, formatShape, formatType, isValidDim, shapesEqual } from "../ir/shape.js";
import type { DType, Graph, GraphOutput, Node, OpNode, Shape, SourceNode, SourceRole, ValueId, ValueType } from "../ir/types.js";
import { isSource } from "../ir/types.js";
import { Value } from "../ir/value.js";

export type { Operand };

export interface BuildOptions {
  /** Drop op nodes no output depends on (sources are always kept). Default true. */
  readonly prune?: boolean;
}

let nextOwner = 0;

/** Also the emitter the ops' VJP rules build gradients with (ops/emitter.ts). */
export class GraphBuilder implements OpEmitter {
  private readonly nodes: Node[] = [];
  private readonly values: Value[] = [];
  private readonly outputs = new Map<string, ValueId>();
  private readonly sourcesByName = new Map<string, Value>();
  private readonly fills = new Map<string, Value>();
  private readonly owner = nextOwner++;
  private label: string | undefined;

  // ---- sources -------------------------------------------------------------------------

  input(name: string, shape: Shape, dtype: DType = "f32"): Value {
    return this.source("input", name, shape, dtype);
  }

  param(name: string, shape: Shape): Value {
    return this.source("param", name, shape, "f32");
  }

  buffer(name: string, shape: Shape): Value {
    return this.source("buffer", name, shape, "f32");
  }

  /** A runtime hyper-parameter: an f32 scalar (shape []). */
  scalar(name: string): Value {
    return this.source("scalar", name, [], "f32");
  }

  source(role: SourceRole, name: string, shape: Shape, dtype: DType): Value {
    const existing = this.sourcesByName.get(name);
    if (existing) {
      const prev = this.nodes[existing.id] as SourceNode;
      throw new Error(`graph input '${name}' is already defined (as ${prev.op} ${formatType(prev)})`);
    }
    shape.forEach((d) => check(role, isValidDim(d), () => `'${name}' has invalid shape ${formatShape(shape)}`));
    const node: SourceNode = { id: this.nodes.length, op: role, name, shape: [...shape], dtype, ...this.labelField() };
    const v = this.push(node);
    this.sourcesByName.set(name, v);
    return v;
  }

  /** The graph input with this name, if any. */
  lookup(name: string): Value | undefined {
    return this.sourcesByName.get(name);
  }

  // ---- generic op ----------------------------------------------------------------------

  /** Adds one primitive; its shape rule checks the inputs and gives the output type. */
  op<K extends OpKind>(kind: K, inputs: readonly Value[], params: OpParams<K>): Value {
    const def = registry[kind];
    inputs.forEach((v) => this.own(v));
    const arityOk = def.arity === "variadic" ? inputs.length >= 1 : inputs.length === def.arity;
    check(kind, arityOk, () => `expects ${def.arity === "variadic" ? "at least 1" : def.arity} input(s), got ${inputs.length}`);
    const type: ValueType = def.shape(inputs, params);
    const node = {
      id: this.nodes.length,
      op: kind,
      inputs: inputs.map((v) => v.id),
      params,
      shape: type.shape,
      dtype: type.dtype,
      ...this.labelField(),
    } as OpNode;
    return this.push(node);
  }

  // ---- constants -----------------------------------------------------------------------

  /**
   * A number fills `shape` (default scalar []); an array gives explicit values in row-major
   * order (default shape [length]).
   */
  constant(value: number | ArrayLike<number>, shape?: Shape, dtype: DType = "f32"): Value {
    if (typeof value === "number") {
      // fills are pure: share one node per (value, shape, dtype) instead of repeating it
      const key = `${Object.is(value, -0) ? "-0" : value}|${(shape ?? []).join(",")}|${dtype}`;
      const cached = this.fills.get(key);
      if (cached) return cached;
      const v = this.op("fill", [], { value, shape: [...(shape ?? [])], dtype });
      this.fills.set(key, v);
      return v;
    }
    const values = Array.from(value);
    return this.op("constant", [], { values, shape: [...(shape ?? [values.length])], dtype });
  }

  zerosLike(v: Value): Value {
    return this.constant(0, v.shape, v.dtype);
  }

  // ---- elementwise ---------------------------------------------------------------------

  neg(x: Value): Value { return this.op("neg", [x], {}); }
  exp(x: Value): Value { return this.op("exp", [x], {}); }
  log(x: Value): Value { return this.op("log", [x], {}); }
  sin(x: Value): Value { return this.op("sin", [x], {}); }
  cos(x: Value): Value { return this.op("cos", [x], {}); }
  sqrt(x: Value): Value { return this.op("sqrt", [x], {}); }
  rsqrt(x: Value): Value { return this.op("rsqrt", [x], {}); }
  sigmoid(x: Value): Value { return this.op("sigmoid", [x], {}); }
  tanh(x: Value): Value { return this.op("tanh", [x], {}); }
  erf(x: Value): Value { return this.op("erf", [x], {}); }
  square(x: Value): Value { return this.op("square", [x], {}); }
  relu(x: Value): Value { return this.op("relu", [x], {}); }
  /** Heaviside: 1 where x > 0, else 0. */
  step(x: Value): Value { return this.op("step", [x], {}); }

  add(a: Operand, b: Operand): Value { return this.binary("add", a, b); }
  sub(a: Operand, b: Operand): Value { return this.binary("sub", a, b); }
  mul(a: Operand, b: Operand): Value { return this.binary("mul", a, b); }
  div(a: Operand, b: Operand): Value { return this.binary("div", a, b); }
  max(a: Operand, b: Operand): Value { return this.binary("max", a, b); }
  /** 1 where a == b, else 0. */
  eq(a: Operand, b: Operand): Value { return this.binary("eq", a, b); }

  private binary(kind: "add" | "sub" | "mul" | "div" | "max" | "eq", a: Operand, b: Operand): Value {
    return this.op(kind, [this.operand(a), this.operand(b)], {});
  }

  private operand(x: Operand): Value {
    return typeof x === "number" ? this.constant(x) : x;
  }

  // ---- linear algebra ------------------------------------------------------------------

  /** x [N, Ci, H, W], w [Co, Ci, kh, kw] -> [N, Co, OH, OW]. */
  conv2d(x: Value, w: Value, opts: { stride?: number; padding?: number } = {}): Value {
    return this.op("conv2d", [x, w], { stride: opts.stride ?? 1, padding: opts.padding ?? 0 });
  }

  /** a [..., M, K] @ b [..., K, N] -> [..., M, N]; leading dims broadcast. */
  matmul(a: Value, b: Value): Value {
    return this.op("matmul", [a, b], {});
  }

  // ---- reductions ----------------------------------------------------------------------

  /** Sum over `axes` (all when omitted; negative axes count from the end). */
  sum(x: Value, axes?: number | readonly number[], keepdims = false): Value {
    return this.reduce("reduce_sum", x, axes, keepdims);
  }

  mean(x: Value, axes?: number | readonly number[], keepdims = false): Value {
    return this.reduce("reduce_mean", x, axes, keepdims);
  }

  amax(x: Value, axes?: number | readonly number[], keepdims = false): Value {
    return this.reduce("reduce_max", x, axes, keepdims);
  }

  private reduce(kind: "reduce_sum" | "reduce_mean" | "reduce_max", x: Value, axes: number | readonly number[] | undefined, keepdims: boolean): Value {
    const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
    const canonical = [...new Set(list.map((a) => this.axis(kind, a, x.rank)))].sort((p, q) => p - q);
    if (canonical.length === 0) return x;
    return this.op(kind, [x], { axes: canonical, keepdims });
  }

  // ---- movement ------------------------------------------------------------------------

  /** One dim may be -1 (inferred). Same shape returns x itself. */
  reshape(x: Value, shape: readonly number[]): Value {
    const resolved = resolveReshape(x.shape, shape);
    if (shapesEqual(resolved, x.shape)) return x;
    return this.op("reshape", [x], { shape: resolved });
  }

  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.every((p, i) => p === i) && perm.length === x.rank) return x;
    return this.op("transpose", [x], { perm: [...perm] });
  }

  /** Swap the last two axes. */
  transposeLast2(x: Value): Value {
    const perm = x.shape.map((_, i) => i);
    const r = x.rank;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }

  broadcastTo(x: Value, shape: Shape): Value {
    if (shapesEqual(x.shape, shape)) return x;
    return this.op("broadcast_to", [x], { shape: [...shape] });
  }

  concat(xs: readonly Value[], axis: number): Value {
    if (xs.length === 1) return xs[0];
    return this.op("concat", xs, { axis: this.axis("concat", axis, xs[0]?.rank ?? 0) });
  }

  /** Full per-axis [start, end) bounds. */
  slice(x: Value, starts: readonly number[], ends: readonly number[]): Value {
    if (starts.every((s) => s === 0) && ends.every((e, i) => e === x.shape[i])) return x;
    return this.op("slice", [x], { starts: [...starts], ends: [...ends] });
  }

  /** x[..., start:end, ...] along one axis. */
  sliceAxis(x: Value, axis: number, start: number, end: number): Value {
    const a = this.axis("slice", axis, x.rank);
    const starts = x.shape.map((_, i) => (i === a ? start : 0));
    const ends = x.shape.map((d, i) => (i === a ? end : d));
    return this.slice(x, starts, ends);
  }

  /** Zero padding: `before[i]` and `after[i]` elements on axis i. */
  pad(x: Value, before: readonly number[], after: readonly number[]): Value {
    if (before.every((p) => p === 0) && after.every((p) => p === 0)) return x;
    return this.op("pad", [x], { before: [...before], after: [...after] });
  }

  // ---- indexing, softmax, casts --------------------------------------------------------

  /** table [V, D], idx i32 [N] -> [N, D]. */
  gather(table: Value, idx: Value): Value {
    return this.op("gather", [table, idx], {});
  }

  /** g [N, D], idx i32 [N] -> [rows, D], summing rows that share an index. */
  scatterAdd(g: Value, idx: Value, rows: number): Value {
    return this.op("scatter_add", [g, idx], { rows });
  }

  /** Softmax over the last axis. */
  softmax(x: Value): Value {
    return this.op("softmax", [x], {});
  }

  /** Fused multi-head self-attention: qkv [N, S, 3C] (per head [q | k | v]) -> [N, S, C]. */
  attention(qkv: Value, heads: number): Value {
    return this.op("attention", [qkv], { heads });
  }

  cast(x: Value, to: DType): Value {
    if (x.dtype === to) return x;
    return this.op("cast", [x], { to });
  }

  // ---- outputs, labels, build ----------------------------------------------------------

  output(name: string, value: Value): void {
    this.own(value);
    if (this.outputs.has(name)) throw new Error(`graph output '${name}' is already defined`);
    this.outputs.set(name, value.id);
  }

  /** Nodes created inside `fn` carry `label` (e.g. the layer path they lower). */
  withLabel<T>(label: string | undefined, fn: () => T): T {
    const saved = this.label;
    this.label = label;
    try {
      return fn();
    } finally {
      this.label = saved;
    }
  }

  /** The label nodes created now receive. */
  get currentLabel(): string | undefined {
    return this.label;
  }

  node(v: Value | ValueId): Node {
    const id = typeof v === "number" ? v : this.own(v).id;
    const node = this.nodes[id];
    if (!node) throw new Error(`internal: no node %${id} in this builder`);
    return node;
  }

  value(id: ValueId): Value {
    const v = this.values[id];
    if (!v) throw new Error(`internal: no value %${id} in this builder`);
    return v;
  }

  get size(): number {
    return this.nodes.length;
  }

  outputValue(name: string): Value | undefined {
    const id = this.outputs.get(name);
    return id === undefined ? undefined : this.values[id];
  }

  build(opts: BuildOptions = {}): Graph {
    const outputs: GraphOutput[] = [...this.outputs].map(([name, value]) => ({ name, value }));
    if (opts.prune === false) return { nodes: [...this.nodes], outputs };
    return pruneAndRenumber(this.nodes, outputs);
  }

/**
   * A builder holding a copy of `graph` (sources, nodes and outputs), to extend it. `rewrite`,
   * where given, sees each op node first (under the node's label): it returns the node's new
   * value, "drop" for a node nothing reads in the copy, or undefined to copy it as it is.
   */
  static fromGraph(
    graph: Graph,
    rewrite?: (node: OpNode, valueOf: (id: ValueId) => Value, b: GraphBuilder) => Value | "drop" | undefined,
  ): { builder: GraphBuilder; valueOf: (id: ValueId) => Value } {
    const b = new GraphBuilder();
    const map = new Map<ValueId, Value>();
    const valueOf = (id: ValueId): Value => {
      const v = map.get(id);
      if (!v) throw new Error(`internal: value %${id} used before its definition`);
      return v;
    };
    for (const node of graph.nodes) {
      const v = b.withLabel(node.label, () => {
        if (isSource(node)) return b.source(node.op, node.name, node.shape, node.dtype);
        return rewrite?.(node, valueOf, b) ?? b.op<OpKind>(node.op, node.inputs.map(valueOf), node.params);
      });
      if (v !== "drop") map.set(node.id, v);
    }
    for (const out of graph.outputs) b.output(out.name, valueOf(out.value));
    return { builder: b, valueOf };
  }

  private push(node: Node): Value {
    this.nodes.push(node);
    const v = new Value(node.id, node.shape, node.dtype, this.owner);
    this.values.push(v);
    return v;
  }

  private own(v: Value): Value {
    if (v.owner !== this.owner) throw new Error(`internal: value ${v} belongs to another graph builder`);
    return v;
  }

  private axis(op: string, axis: number, rank: number): number {
    const a = normalizeAxis(axis, rank);
    check(op, a !== null, () => `axis ${axis} is out of range for rank ${rank}`);
    return a;
  }

  private labelField(): { label?: string } {
    return this.label === undefined ? {} : { label: this.label };
  }
}

function resolveReshape(from: Shape, to: readonly number[]): number[] {
  const unknown = to.filter((d) => d === -1).length;
  check("reshape", unknown <= 1, () => `at most one -1 dim allowed, got ${formatShape(to)}`);
  if (unknown === 0) return [...to];
  const known = numel(to.filter((d) => d !== -1));
  const total = numel(from);
  check("reshape", known > 0 && total % known === 0, () => `cannot infer -1 in ${formatShape(to)} from ${formatShape(from)}`);
  return to.map((d) => (d === -1 ? total / known : d));
}

/** Keep every source and every op some output depends on; ids become array positions. */
function pruneAndRenumber(nodes: readonly Node[], outputs: readonly GraphOutput[]): Graph {
  const live = new Set<ValueId>(outputs.map((o) => o.value));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (isSource(n)) live.add(n.id);
    else if (live.has(n.id)) n.inputs.forEach((id) => live.add(id));
  }
  const newId = new Map<ValueId, ValueId>();
  const kept: Node[] = [];
  for (const n of nodes) {
    if (!live.has(n.id)) continue;
    const id = kept.length;
    newId.set(n.id, id);
    kept.push(isSource(n) ? { ...n, id } : ({ ...n, id, inputs: n.inputs.map((i) => newId.get(i)!) } as OpNode));
  }
  return { nodes: kept, outputs: outputs.map((o) => ({ name: o.name, value: newId.get(o.value)! })) };
}

// A model's inference graph as ONNX (onnx.ai, opset 17): the eval-mode op graph with attention and
// BatchNorm decomposed into primitives (so every op has a standard ONNX counterpart), one ONNX node
// or two per primitive, the parameters and buffers as named initializers (their state_dict names),
// the model's inputs (x, t, c) and outputs (`output`, and each tap) at a fixed batch size.
// Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto).
import type { ModelGraph } from "../../check/model-graph.js";
import { buildGraph } from "../../compile.js";
import type { Tensor } from "../../ir/tensor.js";
import type { DType, Graph, Node, OpNode, SourceNode, ValueId } from "../../ir/types.js";
import { isSource } from "../../ir/types.js";
import { UserError } from "../../diagnostics/user-error.js";
import { ProtoWriter } from "./proto.js";

export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR of opsets 17 and 18

const ELEM: Record<DType | "i64" | "bool", number> = { f32: 1, i32: 6, i64: 7, bool: 9 };
const ATTR = { float: 1, int: 2, tensor: 4, ints: 7 } as const;

export interface OnnxOptions {
  /** The batch size the graph is built for (ONNX shapes here are static). */
  readonly batch: number;
  /** Model metadata: what wrote the file. */
  readonly producer?: string;
  readonly docString?: string;
}

/** Model `model` with weights `weights` (every parameter and buffer by name) as an ONNX file's bytes. */
export function modelToOnnx(model: ModelGraph, weights: ReadonlyMap<string, Tensor>, o: OnnxOptions): Uint8Array {
  const graph = buildGraph(model, { batch: o.batch, mode: "eval", fuseAttention: false, fuseBatchNorm: false, fuseLayerNorm: false });
  return graphToOnnx(graph, weights, { name: model.name, ...o });
}

type Attr = { readonly name: string } & ({ readonly i: number } | { readonly f: number } | { readonly ints: readonly number[] } | { readonly t: ProtoWriter });

/** Builds the GraphProto's nodes; each helper returns the name of the value it made. */
class OnnxGraph {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  private fresh = 0;

  node(op: string, inputs: readonly string[], attrs: readonly Attr[] = [], output = `_${this.fresh++}`): string {
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    n.string(2, output).string(3, `${op}_${this.nodes.length}`).string(4, op);
    for (const a of attrs) n.message(5, attribute(a));
    this.nodes.push(n);
    return output;
  }

  /** An int64 tensor initializer (shapes, axes, pads). */
  int64s(values: readonly number[]): string {
    const name = `_const${this.fresh++}`;
    const raw = new Uint8Array(8 * values.length);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    this.initializers.push(tensorProto(name, [values.length], ELEM.i64, raw));
    return name;
  }

  scalar(value: number): string {
    return this.node("Constant", [], [{ name: "value", t: tensorProto("", [], ELEM.f32, f32Bytes(Float32Array.of(value))) }]);
  }
}

function attribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ("i" in a) return w.int(3, a.i).int(20, ATTR.int);
  if ("f" in a) return w.float(2, a.f).int(20, ATTR.float);
  if ("ints" in a) return w.ints(8, a.ints).int(20, ATTR.ints);
  return w.message(5, a.t).int(20, ATTR.tensor);
}

function tensorProto(name: string, dims: readonly number[], elem: number, raw: Uint8Array): ProtoWriter {
  const t = new ProtoWriter().ints(1, dims).int(2, elem);
  if (name) t.string(8, name);
  return t.blob(9, raw);
}

const f32Bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function valueBytes(data: ArrayLike<number>, dtype: DType): Uint8Array {
  const raw = new Uint8Array(4 * data.length);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === "f32") view.setFloat32(4 * i, data[i], true);
    else view.setInt32(4 * i, data[i], true);
  }
  return raw;
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of shape) dims.message(1, new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, ELEM[dtype]).message(2, dims);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** An op graph (every op primitive and forward-only) with weights for its param and buffer sources. */
export function graphToOnnx(graph: Graph, weights: ReadonlyMap<string, Tensor>, o: { readonly name: string; readonly producer?: string; readonly docString?: string }): Uint8Array {
  const g = new OnnxGraph();
  const byId = new Map<ValueId, Node>(graph.nodes.map((n) => [n.id, n]));
  const names = new Map<ValueId, string>();
  const inputs: ProtoWriter[] = [];
  const used = new Set(graph.nodes.flatMap((n) => (isSource(n) ? [] : n.inputs)));
  for (const out of graph.outputs) used.add(out.value);
  for (const n of graph.nodes) {
    if (isSource(n)) {
      names.set(n.id, n.name);
      if (!used.has(n.id)) continue;
      if (n.op === "input") inputs.push(valueInfo(n.name, n.dtype, n.shape));
      else g.initializers.push(initializer(n, weights));
      continue;
    }
    const value = `v${n.id}`;
    emitOp(g, n, n.inputs.map((i) => names.get(i)!), value, byId);
    names.set(n.id, value);
  }
  const outputs = graph.outputs.map((out) => {
    const n = byId.get(out.value)!;
    g.node("Identity", [names.get(out.value)!], [], out.name);
    return valueInfo(out.name, n.dtype, n.shape);
  });

  const body = new ProtoWriter();
  for (const n of g.nodes) body.message(1, n);
  body.string(2, o.name);
  for (const t of g.initializers) body.message(5, t);
  for (const i of inputs) body.message(11, i);
  for (const out of outputs) body.message(12, out);

  const m = new ProtoWriter().int(1, IR_VERSION).string(2, o.producer ?? "unetc").string(3, "0.1.0");
  if (o.docString) m.string(6, o.docString);
  m.message(7, body).message(8, new ProtoWriter().string(1, "").int(2, ONNX_OPSET));
  return m.encode();
}

function initializer(n: SourceNode, weights: ReadonlyMap<string, Tensor>): ProtoWriter {
  const t = weights.get(n.name);
  if (!t) throw new UserError(`no weights for \`${n.name}\` (${n.op} of shape [${n.shape.join(", ")}])`);
  const count = n.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new UserError(`\`${n.name}\` has ${t.data.length} values; the graph needs ${count} (shape [${n.shape.join(", ")}])`);
  const raw = n.dtype === "f32" && t.data instanceof Float32Array ? f32Bytes(t.data) : valueBytes(t.data, n.dtype);
  return tensorProto(n.name, n.shape, ELEM[n.dtype], raw);
}

const UNARY: Partial<Record<OpNode["op"], string>> = { neg: "Neg", exp: "Exp", log: "Log", sin: "Sin", cos: "Cos", sqrt: "Sqrt", sigmoid: "Sigmoid", tanh: "Tanh", erf: "Erf", relu: "Relu" };
const BINARY: Partial<Record<OpNode["op"], string>> = { add: "Add", sub: "Sub", mul: "Mul", div: "Div", max: "Max" };

/** One primitive as ONNX nodes whose last output is `out`. */
function emitOp(g: OnnxGraph, n: OpNode, ins: readonly string[], out: string, byId: ReadonlyMap<ValueId, Node>): void {
  const [a, b] = ins;
  const simple = UNARY[n.op] ?? BINARY[n.op];
  if (simple) {
    g.node(simple, ins, [], out);
    return;
  }
  switch (n.op) {
    case "rsqrt":
      g.node("Reciprocal", [g.node("Sqrt", [a])], [], out);
      return;
    case "square":
      g.node("Mul", [a, a], [], out);
      return;
    case "step": // 1 where x > 0, else 0
      g.node("Cast", [g.node("Greater", [a, g.scalar(0)])], [{ name: "to", i: ELEM.f32 }], out);
      return;
    case "eq":
      g.node("Cast", [g.node("Equal", [a, b])], [{ name: "to", i: ELEM.f32 }], out);
      return;
    case "reduce_sum":
    case "reduce_mean":
    case "reduce_max": {
      const { axes, keepdims } = n.params;
      if (axes.length === 0) {
        g.node("Identity", [a], [], out); // no axes: nothing reduced (ONNX would reduce all)
        return;
      }
      const keep = { name: "keepdims", i: keepdims ? 1 : 0 };
      // Opset 17: ReduceSum takes its axes as an input, the others as an attribute.
      if (n.op === "reduce_sum") g.node("ReduceSum", [a, g.int64s(axes)], [keep], out);
      else g.node(n.op === "reduce_mean" ? "ReduceMean" : "ReduceMax", [a], [{ name: "axes", ints: axes }, keep], out);
      return;
    }
    case "conv2d": {
      const w = byId.get(n.inputs[1])!;
      const { stride, padding } = n.params;
      const kernel = w.shape.slice(-2);
      g.node("Conv", [a, b], [{ name: "kernel_shape", ints: kernel }, { name: "strides", ints: [stride, stride] }, { name: "pads", ints: [padding, padding, padding, padding] }], out);
      return;
    }
    case "matmul":
      g.node("MatMul", ins, [], out);
      return;
    case "reshape":
      g.node("Reshape", [a, g.int64s(n.params.shape)], [], out);
      return;
    case "transpose":
      g.node("Transpose", [a], [{ name: "perm", ints: n.params.perm }], out);
      return;
    case "broadcast_to":
      g.node("Expand", [a, g.int64s(n.params.shape)], [], out);
      return;
    case "concat":
      g.node("Concat", ins, [{ name: "axis", i: n.params.axis }], out);
      return;
    case "slice": {
      const { starts, ends } = n.params;
      g.node("Slice", [a, g.int64s(starts), g.int64s(ends), g.int64s(starts.map((_, i) => i))], [], out);
      return;
    }
    case "pad":
      g.node("Pad", [a, g.int64s([...n.params.before, ...n.params.after])], [], out);
      return;
    case "gather":
      g.node("Gather", ins, [{ name: "axis", i: 0 }], out);
      return;
    case "softmax":
      g.node("Softmax", ins, [{ name: "axis", i: -1 }], out);
      return;
    case "cast":
      g.node("Cast", [a], [{ name: "to", i: ELEM[n.params.to] }], out);
      return;
    case "fill": {
      const { value, shape, dtype } = n.params;
      const count = shape.reduce((x, y) => x * y, 1);
      g.node("Constant", [], [{ name: "value", t: tensorProto("", shape, ELEM[dtype], valueBytes(new Float64Array(count).fill(value), dtype)) }], out);
      return;
    }
    case "constant": {
      const { values, shape, dtype } = n.params;
      g.node("Constant", [], [{ name: "value", t: tensorProto("", shape, ELEM[dtype], valueBytes(values, dtype)) }], out);
      return;
    }
    default:
      // Fused and backward ops never reach an eval graph built with decomposed attention and BatchNorm.
      throw new UserError(`cannot export op \`${n.op}\`${n.label ? ` (${n.label})` : ""} to ONNX: only an inference graph's primitives have ONNX counterparts here`);
  }
}

// Gradient checks for every differentiable primitive and every composite helper, driven by
// one table (JAX's grad_test_spec): each row builds a small graph from its inputs, says
// where the inputs live (positive for log, away from kinks for relu) and its tolerance.

import { describe, expect, test } from "vitest";
import type { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Value } from "../../compiler/ir/value.js";
import { isSource } from "../../compiler/ir/types.js";
import { registry, UNARY_KINDS, type OpKind } from "../../compiler/ops/index.js";
import { appendGradients } from "../../compiler/passes/autodiff/index.js";
import * as c from "../../compiler/graph/composites/index.js";
import { checkVjp, type InputSpec, type VjpCheckOptions } from "./check-vjp.js";

interface GradCase extends VjpCheckOptions {
  readonly name: string;
  /** The op is piecewise constant here: both sides must be 0. */
  readonly zero?: boolean;
  readonly inputs: readonly InputSpec[];
  readonly build: (b: GraphBuilder, xs: Value[]) => Value;
}

const unaryDomain: Record<string, InputSpec["domain"]> = { log: "positive", sqrt: "positive", rsqrt: "positive", relu: "nonzero", step: "nonzero" };

const unaryCases: GradCase[] = UNARY_KINDS.map((kind) => ({
  name: kind,
  inputs: [{ shape: [3, 4], domain: unaryDomain[kind] ?? "normal" }],
  build: (b, [x]) => b.op(kind, [x], {}),
  zero: kind === "step",
}));

const primitiveCases: GradCase[] = [
  ...unaryCases,
  { name: "add broadcast [2,3]+[3]", inputs: [{ shape: [2, 3] }, { shape: [3] }], build: (b, [x, y]) => b.add(x, y) },
  { name: "sub broadcast [2,1,4]-[3,1]", inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }], build: (b, [x, y]) => b.sub(x, y) },
  { name: "mul broadcast [2,3,4]*[1,3,1]", inputs: [{ shape: [2, 3, 4] }, { shape: [1, 3, 1] }], build: (b, [x, y]) => b.mul(x, y) },
  { name: "mul fan-out x*x", inputs: [{ shape: [5] }], build: (b, [x]) => b.mul(x, x) },
  { name: "div broadcast [2,3]/[2,1]", inputs: [{ shape: [2, 3] }, { shape: [2, 1], domain: "positive" }], build: (b, [x, y]) => b.div(x, y) },
  { name: "max", inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], build: (b, [x, y]) => b.max(x, y) },
  { name: "eq (zero gradient)", inputs: [{ shape: [4] }, { shape: [4] }], build: (b, [x, y]) => b.mul(x, b.eq(x, y)), zero: true },
  { name: "reduce_sum axes [1]", inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.sum(x, 1) },
  { name: "reduce_sum keepdims [0,2]", inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.sum(x, [0, 2], true) },
  { name: "reduce_mean all", inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.mean(x) },
  { name: "reduce_mean keepdims [-1]", inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.mean(x, -1, true) },
  { name: "reduce_max axes [1]", inputs: [{ shape: [3, 5] }], build: (b, [x]) => b.amax(x, 1) },
  { name: "conv2d k3 s1 p1", inputs: [{ shape: [2, 3, 5, 5] }, { shape: [4, 3, 3, 3] }], build: (b, [x, w]) => b.conv2d(x, w, { stride: 1, padding: 1 }) },
  { name: "conv2d k3 s2 p1", inputs: [{ shape: [2, 3, 6, 6] }, { shape: [4, 3, 3, 3] }], build: (b, [x, w]) => b.conv2d(x, w, { stride: 2, padding: 1 }) },
  { name: "conv2d k3 s2 p0 (odd size)", inputs: [{ shape: [1, 2, 7, 6] }, { shape: [3, 2, 3, 3] }], build: (b, [x, w]) => b.conv2d(x, w, { stride: 2, padding: 0 }) },
  { name: "conv2d k1", inputs: [{ shape: [2, 3, 4, 4] }, { shape: [5, 3, 1, 1] }], build: (b, [x, w]) => b.conv2d(x, w) },
  {
    name: "conv2d_input_grad s2 p1",
    inputs: [{ shape: [2, 4, 3, 3] }, { shape: [4, 3, 3, 3] }],
    build: (b, [g, w]) => b.op("conv2d_input_grad", [g, w], { stride: 2, padding: 1, inputSize: [6, 6] }),
  },
  {
    name: "conv2d_weight_grad s2 p1",
    inputs: [{ shape: [2, 3, 5, 5] }, { shape: [2, 4, 3, 3] }],
    build: (b, [x, g]) => b.op("conv2d_weight_grad", [x, g], { stride: 2, padding: 1, kernelSize: [3, 3] }),
  },
  {
    name: "conv2d_weight_grad_partial s2 p1, 2 splits",
    inputs: [{ shape: [4, 3, 5, 5] }, { shape: [4, 2, 3, 3] }],
    build: (b, [x, g]) => b.op("conv2d_weight_grad_partial", [x, g], { stride: 2, padding: 1, kernelSize: [3, 3], splits: 2 }),
  },
  { name: "matmul [2,3]@[3,4]", inputs: [{ shape: [2, 3] }, { shape: [3, 4] }], build: (b, [x, y]) => b.matmul(x, y) },
  { name: "matmul batched", inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], build: (b, [x, y]) => b.matmul(x, y) },
  { name: "matmul broadcast batch", inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], build: (b, [x, y]) => b.matmul(x, y) },
  { name: "reshape", inputs: [{ shape: [2, 6] }], build: (b, [x]) => b.reshape(x, [3, 2, 2]) },
  { name: "transpose", inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.transpose(x, [2, 0, 1]) },
  { name: "broadcast_to", inputs: [{ shape: [3, 1] }], build: (b, [x]) => b.broadcastTo(x, [2, 3, 4]) },
  { name: "concat axis 1", inputs: [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }, { shape: [2, 3, 3] }], build: (b, xs) => b.concat(xs, 1) },
  { name: "slice", inputs: [{ shape: [4, 5] }], build: (b, [x]) => b.slice(x, [1, 0], [3, 4]) },
  { name: "pad", inputs: [{ shape: [2, 3] }], build: (b, [x]) => b.pad(x, [1, 0], [0, 2]) },
  { name: "gather (repeated rows)", inputs: [{ shape: [5, 3] }, { shape: [7], domain: { indices: 5 } }], build: (b, [t, i]) => b.gather(t, i) },
  { name: "scatter_add", inputs: [{ shape: [7, 3] }, { shape: [7], domain: { indices: 4 } }], build: (b, [g, i]) => b.scatterAdd(g, i, 4) },
  { name: "softmax", inputs: [{ shape: [2, 3, 5] }], build: (b, [x]) => b.softmax(x) },
  { name: "cast i32 -> f32 (no gradient into indices)", inputs: [{ shape: [3] }, { shape: [3], domain: { indices: 9 } }], build: (b, [x, i]) => b.mul(x, b.cast(i, "f32")) },
];

const compositeCases: GradCase[] = [
  { name: "conv2dLayer with bias", inputs: [{ shape: [2, 3, 4, 4] }, { shape: [2, 3, 3, 3] }, { shape: [2] }], build: (b, [x, w, bias]) => c.conv2dLayer(b, x, w, bias, 1, 1) },
  { name: "linear rank 3", inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }], build: (b, [x, w, bias]) => c.linear(b, x, w, bias) },
  {
    name: "batchNorm training NCHW",
    inputs: [{ shape: [3, 2, 3, 3] }, { shape: [2] }, { shape: [2] }, { shape: [2] }, { shape: [2], domain: "positive" }],
    build: (b, [x, w, bias, rm, rv]) => c.batchNorm(b, x, w, bias, rm, rv, { training: true }).y,
    rtol: 1e-5,
  },
  {
    name: "batchNorm training NCHW (fused ops)",
    inputs: [{ shape: [3, 2, 3, 3] }, { shape: [2] }, { shape: [2] }, { shape: [2] }, { shape: [2], domain: "positive" }],
    build: (b, [x, w, bias, rm, rv]) => c.batchNorm(b, x, w, bias, rm, rv, { training: true, fused: true }).y,
    rtol: 1e-5,
  },
  {
    name: "batchNorm training [N, C] (fused ops)",
    inputs: [{ shape: [5, 3] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], domain: "positive" }],
    build: (b, [x, w, bias, rm, rv]) => c.batchNorm(b, x, w, bias, rm, rv, { training: true, fused: true }).y,
    rtol: 1e-5,
  },
  {
    name: "batchnorm_apply with act silu (BatchNorm + SiLU fused)",
    inputs: [{ shape: [3, 2, 3, 3] }, { shape: [2] }, { shape: [2] }],
    build: (b, [x, w, bias]) => b.op("batchnorm_apply", [x, b.op("batchnorm_stats", [x], {}), w, bias], { eps: 1e-5, act: "silu" }),
    rtol: 1e-5,
  },
  {
    name: "batchNorm training running var (fused ops)",
    inputs: [{ shape: [4, 3, 2] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], domain: "positive" }],
    build: (b, [x, w, bias, rm, rv]) => c.batchNorm(b, x, w, bias, rm, rv, { training: true, fused: true }).runningVar!,
  },
  {
    name: "batchNorm training running var",
    inputs: [{ shape: [4, 3] }, { shape: [3] }, { shape: [3], domain: "positive" }],
    build: (b, [x, rm, rv]) => c.batchNorm(b, x, null, null, rm, rv, { training: true }).runningVar!,
  },
  {
    name: "batchNorm eval",
    inputs: [{ shape: [2, 3, 2, 2] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], domain: "positive" }],
    build: (b, [x, w, bias, rm, rv]) => c.batchNorm(b, x, w, bias, rm, rv, { training: false }).y,
  },
  { name: "groupNorm", inputs: [{ shape: [2, 4, 3, 3] }, { shape: [4] }, { shape: [4] }], build: (b, [x, w, bias]) => c.groupNorm(b, x, 2, w, bias), rtol: 1e-5 },
  { name: "layerNorm", inputs: [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }], build: (b, [x, w, bias]) => c.layerNorm(b, x, w, bias), rtol: 1e-5 },
  { name: "layerNorm (fused ops)", inputs: [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }], build: (b, [x, w, bias]) => c.layerNorm(b, x, w, bias, 1e-5, true), rtol: 1e-5 },
  { name: "layerNorm [R, 1] (fused ops)", inputs: [{ shape: [4, 1] }, { shape: [1] }, { shape: [1] }], build: (b, [x, w, bias]) => c.layerNorm(b, x, w, bias, 1e-5, true), rtol: 1e-5 },
  // the statistics read directly (layernorm_apply gives them no cotangent): their own VJP
  { name: "layernorm_stats", inputs: [{ shape: [3, 5] }], build: (b, [x]) => b.op("layernorm_stats", [x], { eps: 1e-5 }), rtol: 1e-5 },
  { name: "silu", inputs: [{ shape: [3, 4] }], build: (b, [x]) => c.silu(b, x) },
  { name: "gelu", inputs: [{ shape: [3, 4] }], build: (b, [x]) => c.gelu(b, x) },
  { name: "upsampleNearest2x", inputs: [{ shape: [2, 2, 3, 3] }], build: (b, [x]) => c.upsampleNearest2x(b, x) },
  { name: "softmax axis 1", inputs: [{ shape: [2, 4, 3] }], build: (b, [x]) => c.softmax(b, x, 1) },
  { name: "mseLoss", inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], build: (b, [p, t]) => c.mseLoss(b, p, t) },
  { name: "embeddingGather", inputs: [{ shape: [4, 3] }, { shape: [5], domain: { indices: 4 } }], build: (b, [t, i]) => c.embeddingGather(b, t, i) },
  { name: "sinusoidalEmbedding (odd dim)", inputs: [{ shape: [3] }], build: (b, [t]) => c.sinusoidalEmbedding(b, t, 7, 10000) },
  { name: "attentionCore", inputs: [{ shape: [2, 4, 12] }], build: (b, [qkv]) => c.attentionCore(b, qkv, 2), rtol: 1e-5 },
  { name: "attention (fused op), 2 heads", inputs: [{ shape: [2, 5, 12] }], build: (b, [qkv]) => b.attention(qkv, 2), rtol: 1e-5 },
  { name: "attention (fused op), 1 head of 8", inputs: [{ shape: [1, 7, 24] }], build: (b, [qkv]) => b.attention(qkv, 1), rtol: 1e-5 },
];

/** Gradients of gradients: each op's VJP is made of differentiable ops too. */
function secondOrder(name: string, inputs: readonly InputSpec[], f: (b: GraphBuilder, xs: Value[]) => Value): GradCase {
  return {
    name: `second order: ${name}`,
    inputs,
    build: (b, xs) => {
      const y = f(b, xs);
      const loss = b.sum(b.mul(y, b.sin(y))); // not quadratic, so the 2nd derivative involves y
      return b.concat(appendGradients(b, loss, xs.filter((x) => x.dtype === "f32")).map((g) => b.reshape(g, [-1])), 0);
    },
    rtol: 1e-5,
  };
}

const secondOrderCases: GradCase[] = [
  secondOrder("conv2d s2 p1", [{ shape: [1, 2, 5, 5] }, { shape: [3, 2, 3, 3] }], (b, [x, w]) => b.conv2d(x, w, { stride: 2, padding: 1 })),
  secondOrder("matmul", [{ shape: [2, 3] }, { shape: [3, 2] }], (b, [x, y]) => b.matmul(x, y)),
  secondOrder("softmax", [{ shape: [2, 4] }], (b, [x]) => b.softmax(x)),
  secondOrder("gather", [{ shape: [4, 2] }, { shape: [3], domain: { indices: 4 } }], (b, [t, i]) => b.gather(t, i)),
  secondOrder("unary chain", [{ shape: [5], domain: "positive" }], (b, [x]) => b.tanh(b.erf(b.log(b.rsqrt(b.sigmoid(b.sqrt(x))))))),
  secondOrder("layerNorm", [{ shape: [2, 5] }], (b, [x]) => c.layerNorm(b, x, null, null)),
];

describe.each([
  ["primitives", primitiveCases],
  ["composites", compositeCases],
  ["second order", secondOrderCases],
] as const)("vjp matches central differences: %s", (_group, cases) => {
  test.each(cases.map((k) => [k.name, k] as const))("%s", (_name, k) => {
    const r = checkVjp(k.build, k.inputs, { seed: 7, ...k });
    expect(r.ok, `<u, vjp(w)> = ${r.analytic} but central difference = ${r.numeric}`).toBe(true);
    if (k.zero) expect(r.analytic).toBe(0);
    else expect(Math.abs(r.analytic)).toBeGreaterThan(1e-3); // the direction exercised something
  });
});

test("every primitive with a VJP appears in some gradient check", () => {
  const covered = new Set<string>();
  for (const k of [...primitiveCases, ...compositeCases, ...secondOrderCases]) {
    const { forward, backward } = checkVjp(k.build, k.inputs, { seed: 1 });
    for (const n of [...forward.nodes, ...backward.nodes]) if (!isSource(n)) covered.add(n.op);
  }
  const needed = (Object.keys(registry) as OpKind[]).filter((op) => typeof registry[op].vjp === "function" && registry[op].arity !== 0);
  expect(needed.filter((op) => !covered.has(op))).toEqual([]);
});

// Composite helpers against the PyTorch formulas they stand for, written out naively.

import { describe, expect, test } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Value } from "../../compiler/ir/value.js";
import { verifyGraph } from "../../compiler/graph/verify.js";
import * as c from "../../compiler/graph/composites/index.js";
import { runGraph, type Precision } from "../../runtime/reference/interpreter.js";
import { maxAbsDiff, wave } from "../ops/run-op.js";

/** Builds `f` over inputs shaped like `xs`, runs it, returns every output by name. */
function run(xs: readonly Tensor[], f: (b: GraphBuilder, v: Value[]) => Record<string, Value>, precision: Precision = "f64"): Record<string, Tensor> {
  const b = new GraphBuilder();
  const vs = xs.map((x, i) => b.input(`x${i}`, x.shape, x.data instanceof Int32Array ? "i32" : "f32"));
  for (const [name, v] of Object.entries(f(b, vs))) b.output(name, v);
  const g = b.build();
  verifyGraph(g, "composite");
  return runGraph(g, Object.fromEntries(xs.map((x, i) => [`x${i}`, x])), { precision }).outputs;
}

describe("attentionCore", () => {
  test("matches the course's rearrange + chunk layout", () => {
    const [N, S, heads, dh] = [2, 5, 3, 2];
    const C = heads * dh;
    const qkv = wave([N, S, 3 * C], 0.3);
    const got = run([qkv], (b, [x]) => ({ y: c.attentionCore(b, x, heads) })).y;
    expect(got.shape).toEqual([N, S, C]);

    // x = rearrange(qkv, 'n s (h d) -> (n h) s d'); q, k, v = chunk(x, 3, -1)
    const at = (n: number, s: number, h: number, part: number, j: number) => qkv.data[(n * S + s) * 3 * C + h * 3 * dh + part * dh + j];
    const want = new Float64Array(N * S * C);
    for (let n = 0; n < N; n++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < S; i++) {
          const scores = Array.from({ length: S }, (_, j) => {
            let dot = 0;
            for (let e = 0; e < dh; e++) dot += at(n, i, h, 0, e) * at(n, j, h, 1, e);
            return dot / Math.sqrt(dh);
          });
          const mx = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - mx));
          const z = ex.reduce((a, b) => a + b, 0);
          // '(n h) s d -> n s (h d)': head h's output fills features [h*dh, (h+1)*dh)
          for (let e = 0; e < dh; e++) {
            want[(n * S + i) * C + h * dh + e] = ex.reduce((acc, p, j) => acc + (p / z) * at(n, j, h, 2, e), 0);
          }
        }
    expect(maxAbsDiff(got.data, want)).toBeLessThan(1e-12);
  });
});

describe("batchNorm", () => {
  const [N, C, H, W] = [3, 2, 2, 2];
  const x = wave([N, C, H, W], 0.5);
  const weight = { shape: [C], data: Float64Array.of(1.5, -0.5) };
  const bias = { shape: [C], data: Float64Array.of(0.1, 0.2) };
  const rm = { shape: [C], data: Float64Array.of(0.3, -0.2) };
  const rv = { shape: [C], data: Float64Array.of(0.8, 1.7) };
  const channel = (ch: number) => Array.from({ length: N * H * W }, (_, i) => x.data[(Math.floor(i / (H * W)) * C + ch) * H * W + (i % (H * W))]);

  test("training: batch statistics, biased for y, unbiased in running_var, momentum 0.1", () => {
    const out = run([x, weight, bias, rm, rv], (b, [xv, w, bi, m, v]) => {
      const r = c.batchNorm(b, xv, w, bi, m, v, { training: true });
      return { y: r.y, mean: r.runningMean!, var: r.runningVar! };
    });
    for (let ch = 0; ch < C; ch++) {
      const vals = channel(ch);
      const n = vals.length;
      const mu = vals.reduce((a, b) => a + b, 0) / n;
      const biased = vals.reduce((a, v) => a + (v - mu) ** 2, 0) / n;
      expect(out.mean.data[ch]).toBeCloseTo(0.9 * rm.data[ch] + 0.1 * mu, 12);
      expect(out.var.data[ch]).toBeCloseTo(0.9 * rv.data[ch] + 0.1 * biased * (n / (n - 1)), 12);
      const i0 = ch * H * W; // first element of channel ch in sample 0
      expect(out.y.data[i0]).toBeCloseTo(((x.data[i0] - mu) / Math.sqrt(biased + 1e-5)) * weight.data[ch] + bias.data[ch], 12);
    }
  });

  test("eval: running statistics, no stat outputs", () => {
    const out = run([x, weight, bias, rm, rv], (b, [xv, w, bi, m, v]) => {
      const r = c.batchNorm(b, xv, w, bi, m, v, { training: false, eps: 1e-3 });
      expect(r.runningMean).toBeUndefined();
      return { y: r.y };
    });
    const i = 1 * H * W + 3; // sample 0, channel 1, last pixel
    expect(out.y.data[i]).toBeCloseTo(((x.data[i] - rm.data[1]) / Math.sqrt(rv.data[1] + 1e-3)) * weight.data[1] + bias.data[1], 12);
  });

  test("BatchNorm1d over [N, C]", () => {
    const x2 = wave([4, 3]);
    const out = run([x2, wave([3]), wave([3], 1)], (b, [xv, m, v]) => ({ y: c.batchNorm(b, xv, null, null, m, v, { training: true }).y }));
    const col = [0, 1, 2, 3].map((r) => x2.data[r * 3]);
    const mu = col.reduce((a, b) => a + b) / 4;
    const va = col.reduce((a, v) => a + (v - mu) ** 2, 0) / 4;
    expect(out.y.data[0]).toBeCloseTo((col[0] - mu) / Math.sqrt(va + 1e-5), 12);
  });
});

describe("norms", () => {
  test("groupNorm normalizes each group of channels over channels and pixels", () => {
    const x = wave([2, 4, 2, 3], 0.2);
    const w = { shape: [4], data: Float64Array.of(1, 2, 3, 4) };
    const bias = { shape: [4], data: Float64Array.of(0, 0.5, 1, 1.5) };
    const y = run([x, w, bias], (b, [xv, wv, bv]) => ({ y: c.groupNorm(b, xv, 2, wv, bv) })).y;
    // sample 1, group 1 = channels 2 and 3: 12 contiguous values
    const start = (1 * 4 + 2) * 6;
    const grp = Array.from(x.data.slice(start, start + 12));
    const mu = grp.reduce((a, b) => a + b) / 12;
    const va = grp.reduce((a, v) => a + (v - mu) ** 2, 0) / 12;
    const k = start + 7; // channel 3
    expect(y.data[k]).toBeCloseTo(((x.data[k] - mu) / Math.sqrt(va + 1e-5)) * 4 + 1.5, 12);
  });

  test("layerNorm over the last axis", () => {
    const x = wave([2, 3, 4]);
    const y = run([x, wave([4], 1), wave([4], 2)], (b, [xv, wv, bv]) => ({ y: c.layerNorm(b, xv, wv, bv) })).y;
    const row = Array.from(x.data.slice(8, 12));
    const mu = row.reduce((a, b) => a + b) / 4;
    const va = row.reduce((a, v) => a + (v - mu) ** 2, 0) / 4;
    const [w2, b2] = [wave([4], 1).data[2], wave([4], 2).data[2]];
    expect(y.data[10]).toBeCloseTo(((row[2] - mu) / Math.sqrt(va + 1e-5)) * w2 + b2, 12);
  });
});

describe("sinusoidalEmbedding", () => {
  const closedForm = (t: number, dim: number, maxPeriod: number): number[] => {
    const half = Math.floor(dim / 2);
    const freqs = Array.from({ length: half }, (_, j) => Math.exp(-Math.log(maxPeriod) * (half === 1 ? 0 : j / (half - 1))));
    const emb = [...freqs.map((f) => Math.sin(t * f)), ...freqs.map((f) => Math.cos(t * f))];
    return dim % 2 ? [...emb, 0] : emb;
  };

  test.each([
    [8, 10000],
    [7, 10000],
    [16, 1000],
  ])("dim %i, max period %i, float32", (dim, maxPeriod) => {
    const ts = [0, 0.25, 1, 37.5];
    const y = run([{ shape: [4], data: Float64Array.from(ts) }], (b, [t]) => ({ y: c.sinusoidalEmbedding(b, t, dim, maxPeriod) }), "f32").y;
    expect(y.shape).toEqual([4, dim]);
    ts.forEach((t, n) => {
      const want = closedForm(t, dim, maxPeriod);
      // float32 frequencies: |t| * 1 ulp of the phase
      expect(maxAbsDiff(y.data.slice(n * dim, (n + 1) * dim), want)).toBeLessThan(1e-5);
    });
  });

  test("diffusers form: arange / (half - freq_shift), flip_sin_to_cos", () => {
    const [dim, half, shift] = [6, 3, 0];
    const y = run([{ shape: [1], data: Float64Array.of(2.5) }], (b, [t]) => ({ y: c.sinusoidalEmbedding(b, t, dim, 10000, { freqShift: shift, flipSinToCos: true }) })).y;
    const freqs = [0, 1, 2].map((k) => Math.exp((-Math.log(10000) * k) / (half - shift)));
    const want = [...freqs.map((f) => Math.cos(2.5 * f)), ...freqs.map((f) => Math.sin(2.5 * f))];
    expect(maxAbsDiff(y.data, want)).toBeLessThan(1e-6);
  });

  test("integer timesteps are cast", () => {
    const y = run([{ shape: [2], data: Int32Array.of(0, 3) }], (b, [t]) => ({ y: c.sinusoidalEmbedding(b, t, 4) })).y;
    expect(maxAbsDiff(y.data, [...closedForm(0, 4, 10000), ...closedForm(3, 4, 10000)])).toBeLessThan(1e-6);
  });
});

describe("layers", () => {
  test("linear uses PyTorch's [out, in] weight on the last axis of any rank", () => {
    const x = wave([2, 3, 4]);
    const w = wave([5, 4], 1);
    const bias = wave([5], 2);
    const y = run([x, w, bias], (b, [xv, wv, bv]) => ({ y: c.linear(b, xv, wv, bv) })).y;
    expect(y.shape).toEqual([2, 3, 5]);
    const row = 4; // (1, 1)
    let acc = bias.data[3];
    for (let k = 0; k < 4; k++) acc += x.data[row * 4 + k] * w.data[3 * 4 + k];
    expect(y.data[row * 5 + 3]).toBeCloseTo(acc, 12);
  });

  test("upsampleNearest2x repeats each pixel in a 2x2 block", () => {
    const x = { shape: [1, 1, 2, 2], data: Float64Array.of(1, 2, 3, 4) };
    const y = run([x], (b, [xv]) => ({ y: c.upsampleNearest2x(b, xv) })).y;
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  test("conv2dLayer adds a per-channel bias", () => {
    const x = { shape: [1, 1, 2, 2], data: Float64Array.of(1, 2, 3, 4) };
    const w = { shape: [2, 1, 1, 1], data: Float64Array.of(1, -1) };
    const bias = { shape: [2], data: Float64Array.of(10, 20) };
    const y = run([x, w, bias], (b, [xv, wv, bv]) => ({ y: c.conv2dLayer(b, xv, wv, bv) })).y;
    expect(Array.from(y.data)).toEqual([11, 12, 13, 14, 19, 18, 17, 16]);
  });

  test("softmax along axis 1 and mseLoss", () => {
    const x = { shape: [1, 2, 2], data: Float64Array.of(0, 1, 0, 3) };
    const out = run([x, { shape: [1, 2, 2], data: Float64Array.of(1, 1, 1, 1) }], (b, [xv, tv]) => ({ s: c.softmax(b, xv, 1), l: c.mseLoss(b, xv, tv) }));
    expect(Array.from(out.s.data)).toEqual([0.5, 1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2))]);
    expect(out.l.shape).toEqual([]);
    expect(out.l.data[0]).toBe((1 + 0 + 1 + 4) / 4);
  });

  test("silu and gelu", () => {
    const x = { shape: [3], data: Float64Array.of(-1, 0.5, 2) };
    const out = run([x], (b, [xv]) => ({ s: c.silu(b, xv), g: c.gelu(b, xv) }));
    expect(maxAbsDiff(out.s.data, [-1, 0.5, 2].map((v) => v / (1 + Math.exp(-v))))).toBeLessThan(1e-15);
    // torch.nn.functional.gelu(torch.tensor([-1., .5, 2.], dtype=torch.float64))
    expect(maxAbsDiff(out.g.data, [-0.15865525393145707, 0.34573123063700656, 1.9544997361036416])).toBeLessThan(1e-13);
  });
});

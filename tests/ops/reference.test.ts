// Reference kernels against naive formulas and hand-computed values.

import { describe, expect, test } from "vitest";
import { erf } from "../../compiler/ops/unary.js";
import { maxAbsDiff, runOp, t, ti, wave } from "./run-op.js";

/** out[n,o,i,j] = sum_{c,p,q} x[n,c,i*s+p-pad, j*s+q-pad] * w[o,c,p,q], zero outside x. */
function naiveConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], s: number, pad: number) {
  const [N, C, H, W] = xs;
  const [O, , KH, KW] = ws;
  const OH = Math.floor((H + 2 * pad - KH) / s) + 1;
  const OW = Math.floor((W + 2 * pad - KW) / s) + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = 0;
          for (let c = 0; c < C; c++)
            for (let p = 0; p < KH; p++)
              for (let q = 0; q < KW; q++) {
                const r = i * s + p - pad;
                const k = j * s + q - pad;
                if (r >= 0 && r < H && k >= 0 && k < W) acc += x[((n * C + c) * H + r) * W + k] * w[((o * C + c) * KH + p) * KW + q];
              }
          out[((n * O + o) * OH + i) * OW + j] = acc;
        }
  return { data: out, shape: [N, O, OH, OW] };
}

const convCases = [
  { x: [2, 3, 7, 7], w: [4, 3, 3, 3], stride: 2, padding: 1 },
  { x: [1, 2, 6, 5], w: [3, 2, 3, 3], stride: 2, padding: 1 },
  { x: [2, 2, 5, 5], w: [2, 2, 3, 3], stride: 1, padding: 1 },
  { x: [1, 3, 8, 8], w: [2, 3, 3, 2], stride: 3, padding: 2 },
  { x: [2, 4, 4, 4], w: [5, 4, 1, 1], stride: 1, padding: 0 },
  // 256 pixels a sample: the kernels group samples two by two, and the third is a group alone
  { x: [3, 2, 16, 16], w: [3, 2, 3, 3], stride: 1, padding: 1 },
];

describe("conv2d and its gradients against the naive formula", () => {
  test.each(convCases)("x $x, w $w, stride $stride, padding $padding", ({ x, w, stride, padding }) => {
    const X = wave(x, 0.1);
    const Wt = wave(w, 0.7);
    const want = naiveConv(X.data as Float64Array, x, Wt.data as Float64Array, w, stride, padding);
    const y = runOp("conv2d", [X, Wt], { stride, padding });
    expect(y.shape).toEqual(want.shape);
    expect(maxAbsDiff(y.data, want.data)).toBeLessThan(1e-12);

    // The gradients are the adjoints: <conv(x, w), g> = <x, dx(g, w)> = <w, dw(x, g)>,
    // so each is pinned by the naive forward formula through an inner product.
    const G = wave(want.shape, 2.3);
    const inner = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    const dx = runOp("conv2d_input_grad", [G, Wt], { stride, padding, inputSize: [x[2], x[3]] });
    const dw = runOp("conv2d_weight_grad", [X, G], { stride, padding, kernelSize: [w[2], w[3]] });
    expect(dx.shape).toEqual(x);
    expect(dw.shape).toEqual(w);
    // check elementwise: dx[e] = <conv(onehot_e, w), g>, dw[e] = <conv(x, onehot_e), g>
    for (let e = 0; e < dx.data.length; e += 7) {
      const hot = new Float64Array(dx.data.length);
      hot[e] = 1;
      expect(dx.data[e]).toBeCloseTo(inner(naiveConv(hot, x, Wt.data as Float64Array, w, stride, padding).data, G.data), 10);
    }
    for (let e = 0; e < dw.data.length; e += 5) {
      const hot = new Float64Array(dw.data.length);
      hot[e] = 1;
      expect(dw.data[e]).toBeCloseTo(inner(naiveConv(X.data as Float64Array, x, hot, w, stride, padding).data, G.data), 10);
    }
  });

  test("float32 storage rounds outputs", () => {
    const y = runOp("conv2d", [wave([1, 1, 3, 3]), wave([1, 1, 3, 3], 1)], { stride: 1, padding: 0 }, "f32");
    expect(y.data).toBeInstanceOf(Float32Array);
  });

  // [6, 2, 16, 16] has 256 pixels a sample, so the kernel's sample groups (of two) must stop at splits of three
  test.each([
    [1, [6, 2, 5, 4], 2],
    [2, [6, 2, 5, 4], 2],
    [3, [6, 2, 5, 4], 2],
    [6, [6, 2, 5, 4], 2],
    [2, [6, 2, 16, 16], 1],
  ])("conv2d_weight_grad_partial with %i splits of x %j: part s is the weight grad of sample group s", (splits, x, stride) => {
    const [w, padding] = [[3, 2, 3, 3], 1];
    const X = wave(x, 0.3);
    const oh = Math.floor((x[2] + 2 * padding - w[2]) / stride) + 1;
    const ow = Math.floor((x[3] + 2 * padding - w[3]) / stride) + 1;
    const G = wave([x[0], w[0], oh, ow], 1.1);
    const params = { stride, padding, kernelSize: [w[2], w[3]] as [number, number] };
    const parts = runOp("conv2d_weight_grad_partial", [X, G], { ...params, splits });
    expect(parts.shape).toEqual([splits, ...w]);
    const per = x[0] / splits;
    const size = w.reduce((a, c) => a * c, 1);
    const sampleX = x[1] * x[2] * x[3];
    const sampleG = w[0] * oh * ow;
    for (let s = 0; s < splits; s++) {
      const xs = { shape: [per, ...x.slice(1)], data: X.data.slice(s * per * sampleX, (s + 1) * per * sampleX) };
      const gs = { shape: [per, w[0], oh, ow], data: G.data.slice(s * per * sampleG, (s + 1) * per * sampleG) };
      const want = runOp("conv2d_weight_grad", [xs, gs], params);
      expect(maxAbsDiff(parts.data.slice(s * size, (s + 1) * size), want.data)).toBeLessThan(1e-12);
    }
    expect(() => runOp("conv2d_weight_grad_partial", [X, G], { ...params, splits: 4 })).toThrow(/splits must be a positive integer dividing the batch 6/);
  });
});

describe("matmul", () => {
  test("broadcasts leading dims as numpy", () => {
    const a = wave([2, 1, 3, 4]);
    const b = wave([3, 4, 2], 1);
    const y = runOp("matmul", [a, b], {});
    expect(y.shape).toEqual([2, 3, 3, 2]);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let m = 0; m < 3; m++)
          for (let n = 0; n < 2; n++) {
            let acc = 0;
            for (let k = 0; k < 4; k++) acc += a.data[(i * 3 + m) * 4 + k] * b.data[(j * 4 + k) * 2 + n];
            expect(y.data[((i * 3 + j) * 3 + m) * 2 + n]).toBeCloseTo(acc, 12);
          }
  });
});

describe("reductions", () => {
  const x = t([2, 3], [1, 5, 3, 4, 2, 6]);
  test.each([
    ["reduce_sum", [1], false, [2], [9, 12]],
    ["reduce_sum", [0], true, [1, 3], [5, 7, 9]],
    ["reduce_mean", [0, 1], false, [], [3.5]],
    ["reduce_max", [1], true, [2, 1], [5, 6]],
    ["reduce_max", [0], false, [3], [4, 5, 6]],
  ] as const)("%s axes %j keepdims %s", (kind, axes, keepdims, shape, values) => {
    const y = runOp(kind, [x], { axes, keepdims });
    expect(y.shape).toEqual(shape);
    expect(Array.from(y.data)).toEqual(values);
  });
});

describe("movement", () => {
  const x = t([2, 3], [0, 1, 2, 3, 4, 5]);
  test("transpose", () => expect(Array.from(runOp("transpose", [x], { perm: [1, 0] }).data)).toEqual([0, 3, 1, 4, 2, 5]));
  test("broadcast_to", () => expect(Array.from(runOp("broadcast_to", [t([2, 1], [7, 8])], { shape: [2, 2, 3] }).data)).toEqual([7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8]));
  test("slice", () => expect(Array.from(runOp("slice", [x], { starts: [1, 1], ends: [2, 3] }).data)).toEqual([4, 5]));
  test("pad", () => expect(Array.from(runOp("pad", [t([1, 2], [1, 2])], { before: [1, 0], after: [0, 1] }).data)).toEqual([0, 0, 0, 1, 2, 0]));
  test("concat axis 1", () => expect(Array.from(runOp("concat", [x, t([2, 1], [9, 8])], { axis: 1 }).data)).toEqual([0, 1, 2, 9, 3, 4, 5, 8]));
  test("reshape keeps order", () => expect(runOp("reshape", [x], { shape: [3, 2] }).shape).toEqual([3, 2]));
  test("transpose of i32 stays i32", () => expect(runOp("transpose", [ti([2, 2], [1, 2, 3, 4])], { perm: [1, 0] }).data).toEqual(Int32Array.from([1, 3, 2, 4])));
});

describe("elementwise", () => {
  test("binary broadcasting [2,1] + [1,3]", () => {
    expect(Array.from(runOp("add", [t([2, 1], [10, 20]), t([1, 3], [1, 2, 3])], {}).data)).toEqual([11, 12, 13, 21, 22, 23]);
  });
  test("max and eq", () => {
    expect(Array.from(runOp("max", [t([3], [1, 5, 2]), t([3], [3, 4, 2])], {}).data)).toEqual([3, 5, 2]);
    expect(Array.from(runOp("eq", [t([3], [1, 5, 2]), t([3], [3, 5, 2])], {}).data)).toEqual([0, 1, 1]);
  });
  test("relu and step at the kink are 0", () => {
    expect(Array.from(runOp("relu", [t([3], [-1, 0, 2])], {}).data)).toEqual([0, 0, 2]);
    expect(Array.from(runOp("step", [t([3], [-1, 0, 2])], {}).data)).toEqual([0, 0, 1]);
  });
  test("erf matches tabulated values", () => {
    const table: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [6, 1],
    ];
    for (const [x, want] of table) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-13);
  });
  test("sigmoid is stable for large |x|", () => {
    const y = runOp("sigmoid", [t([2], [-800, 800])], {});
    expect(Array.from(y.data)).toEqual([0, 1]);
  });
  test("cast truncates toward zero like torch", () => {
    expect(runOp("cast", [t([3], [-1.7, 0.2, 2.9])], { to: "i32" }).data).toEqual(Int32Array.from([-1, 0, 2]));
  });
});

describe("softmax", () => {
  test("rows sum to 1 and large logits do not overflow", () => {
    const y = runOp("softmax", [t([2, 3], [1, 2, 3, 1000, 1000, 1000])], {});
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0] + e[1] + e[2];
    expect(maxAbsDiff(y.data.slice(0, 3), e.map((v) => v / z))).toBeLessThan(1e-15);
    expect(Array.from(y.data.slice(3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });
});

describe("gather and scatter_add", () => {
  const table = t([3, 2], [0, 1, 10, 11, 20, 21]);
  test("gather rows", () => expect(Array.from(runOp("gather", [table, ti([4], [2, 0, 2, 1])], {}).data)).toEqual([20, 21, 0, 1, 20, 21, 10, 11]));
  test("scatter_add sums repeated rows", () => {
    const y = runOp("scatter_add", [t([3, 2], [1, 2, 3, 4, 5, 6]), ti([3], [2, 0, 2])], { rows: 4 });
    expect(Array.from(y.data)).toEqual([3, 4, 0, 0, 6, 8, 0, 0]);
  });
  test("an out-of-range index names the node and the index", () => {
    expect(() => runOp("gather", [table, ti([2], [1, 3])], {})).toThrow(/while running %2: f32\[2,2\] = gather\(%x0, %x1\): gather: index 3 at position 1 is out of range for 3 rows/);
  });
});

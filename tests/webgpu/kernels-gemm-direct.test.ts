// The direct GEMM (compiler/wgsl/gemm-direct.ts: no workgroup memory, all BM rows per
// invocation; the software adapters' default) against the reference interpreter on random
// inputs: M, N, K not multiples of the tiles, batch > 1 with broadcasting, the three
// convolutions with strides 1 and 2, split-K weight gradients with chunks that end mid-tile,
// with A's rows loaded per lane and by subgroupBroadcast (groups of 8 rows that run past M,
// 1x1 and strided convs, padding at every border, odd sizes); plus checks of the generated
// WGSL and of the software chooser (no adapter needed).
import { afterEach, describe, expect, it } from "vitest";
import { conv2dKernel, conv2dWeightGradPartialKernel, convOutSize } from "../../compiler/ops/conv2d.js";
import { matmulKernel } from "../../compiler/ops/matmul.js";
import { readDims } from "../../compiler/wgsl/dims.js";
import { TILES_64_UNROLLED, TILES_CPU, TILES_CPU_N16, TILES_CPU_N8, checkTiles, defaultTiles, setTileChooser, sharedBytes, type GemmTiles } from "../../compiler/wgsl/gemm.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";

const gpu = await getGpu();
const tol = { rtol: 1e-4 };
const f32 = (shape: number[]) => ({ shape, dtype: "f32" as const });
const limits = { maxWorkgroupsPerDimension: 65535 };
const direct = (bm: number, bn: number, tn: number, broadcast = false): GemmTiles => ({ bm, bn, bk: 1, tm: bm, tn, direct: true, ...(broadcast ? { broadcast } : {}) });
const subgroups = typeof gpu !== "string" && gpu.features.has("subgroups");

// the software chooser's three (see defaultTiles, all broadcast), unbroadcast rows, a wide
// one with 4 columns per lane and two groups of broadcast rows per lane
const configs: Array<[string, GemmTiles]> = [
  ["direct 16x16 16x2 broadcast (TILES_CPU)", TILES_CPU],
  ["direct 16x16 16x2 broadcast (TILES_CPU_N16)", TILES_CPU_N16],
  ["direct 16x8 16x1 broadcast (TILES_CPU_N8)", TILES_CPU_N8],
  ["direct 8x32 8x4", direct(8, 32, 4)],
  ["direct 8x16 8x2", direct(8, 16, 2)],
  ["direct 4x256 4x4", direct(4, 256, 4)],
  ["direct 8x32 8x4 broadcast", direct(8, 32, 4, true)],
  // the tuner's other software candidates (compiler/wgsl/gemm.ts tileCandidates)
  ["direct 16x32 16x4 broadcast", direct(16, 32, 4, true)],
  ["direct 32x16 32x2 broadcast", direct(32, 16, 2, true)],
];

// (N, Ci, H, W, Co, k, stride, pad)
const convs: Array<[number, number, number, number, number, number, number, number]> = [
  [2, 3, 9, 7, 5, 3, 1, 1],
  [2, 4, 8, 8, 6, 3, 2, 1],
  [3, 2, 5, 5, 4, 1, 1, 0],
  // 19 output channels: a second group of broadcast rows that runs past M; stride 2 on odd sizes
  [2, 5, 7, 9, 19, 3, 2, 1],
  [1, 9, 6, 5, 17, 1, 1, 0],
];

describe("direct GEMM generation", () => {
  it.each(configs)("%s has no workgroup memory and passes checkTiles", (_, t) => {
    expect(() => checkTiles(t)).not.toThrow();
    expect(sharedBytes(t)).toBe(0);
  });

  it("rejects direct tiles whose invocations do not hold all rows", () => {
    expect(() => checkTiles({ bm: 16, bn: 16, bk: 1, tm: 8, tn: 2, direct: true })).toThrow(/tm = bm/);
    expect(() => checkTiles({ bm: 16, bn: 64, bk: 1, tm: 16, tn: 16, direct: true })).toThrow(/accumulators/);
    expect(() => checkTiles({ bm: 4, bn: 32, bk: 1, tm: 4, tn: 4, direct: true, broadcast: true })).toThrow(/broadcast/);
    expect(() => checkTiles({ bm: 8, bn: 32, bk: 1, tm: 8, tn: 2, direct: true, broadcast: true })).toThrow(/broadcast/);
  });

  it("broadcasts A's rows from one load per group of 8 lanes", () => {
    const req = { inputs: [f32([3, 20, 37]), f32([37, 45])], out: f32([3, 20, 45]), params: {}, limits };
    const { code } = matmulKernel(req, TILES_CPU);
    expect(code.startsWith("enable subgroups;\n")).toBe(true);
    expect(code).toContain("let sA1 = colA(b, min(m0 + 8u + tx, dims.m - 1u));");
    expect(code).not.toContain("let sA2 ");
    expect(code).toContain("let aL1 = atA(sA1, kw);");
    expect(code).toContain("let a9 = subgroupBroadcast(aL1, 1u);");
    expect(code.match(/atA\(/g)).toHaveLength(2 + 1); // the declaration and two loads a step
    expect(matmulKernel(req, direct(8, 16, 2)).code).not.toContain("subgroup");
  });

  it("reads A uniformly, with a hidden K bound and no barrier", () => {
    const req = { inputs: [f32([3, 20, 37]), f32([37, 45])], out: f32([3, 20, 45]), params: {}, limits };
    const { code, workgroups, uniforms } = matmulKernel(req, direct(8, 16, 2));
    expect(code).toContain("// matmul as GEMM, direct tiles 8x16, 8x2 per thread; sizes in dims");
    expect(code).toContain("@workgroup_size(8)");
    expect(code).toContain("let sA7 = colA(b, min(m0 + 7u, dims.m - 1u));");
    expect(code).toContain("let sB1 = colB(b, min(n0 + tx + 8u, dims.n - 1u));");
    expect(code).toContain("let kEnd = dims.k;");
    expect(readDims(code, uniforms)).toMatchObject({ m: 20, n: 45, k: 37, b0: 3, sa0: 20 * 37, tiles: 27, tiles_n: 3, tiles_m: 3 });
    expect(code).not.toContain("workgroupBarrier");
    expect(code).not.toContain("var<workgroup>");
    expect(workgroups).toEqual([3 * 3 * 3, 1, 1]);
  });

  it("walks one split-K chunk per batch", () => {
    const params = { stride: 1, padding: 1, kernelSize: [3, 3] as [number, number], splits: 4 };
    const req = { inputs: [f32([8, 16, 8, 8]), f32([8, 16, 8, 8])], out: f32([4, 16, 16, 3, 3]), params, limits };
    const { code, uniforms } = conv2dWeightGradPartialKernel(req, direct(8, 16, 2));
    expect(code).toContain("let kBegin = b * dims.chunk;");
    expect(code).toContain("let kEnd = min(kBegin + dims.chunk, dims.k);");
    expect(readDims(code, uniforms)).toMatchObject({ chunk: 128, k: 512 });
  });

  it("serves every shape of a kind with one pipeline: the sizes are uniforms", () => {
    const conv = (n: number, c: number, hw: number) =>
      conv2dWeightGradPartialKernel({ inputs: [f32([n, c, hw, hw]), f32([n, 2 * c, hw, hw])], out: f32([2, 2 * c, c, 3, 3]), params: { stride: 1, padding: 1, kernelSize: [3, 3] as [number, number], splits: 2 }, limits }, direct(8, 16, 2));
    const [a, b] = [conv(8, 16, 8), conv(4, 32, 16)];
    expect(a.code).toBe(b.code);
    expect(a.uniforms).not.toEqual(b.uniforms);
    expect(readDims(b.code, b.uniforms)).toMatchObject({ ohw: 256, ow: 16, co: 64, cihw: 32 * 256, cikhw: 32 * 9, h: 16, w: 16 });
    const mm = (batch: number, m: number) => matmulKernel({ inputs: [f32([batch, m, 8]), f32([batch, 8, 16])], out: f32([batch, m, 16]), params: {}, limits }, direct(8, 16, 2));
    expect(mm(3, 20).code).toBe(mm(5, 64).code);
  });

  it("serves every stride and padding of a forward conv and a weight gradient with one pipeline", () => {
    // output sizes powers of two in both (a power of two divides by a shift: that shapes the code)
    const fwd = (size: number, stride: number, padding: number) => {
      const hw = convOutSize(size, 3, { stride, padding });
      return conv2dKernel({ inputs: [f32([4, 8, size, size]), f32([16, 8, 3, 3])], out: f32([4, 16, hw, hw]), params: { stride, padding }, limits }, direct(8, 16, 2));
    };
    const [a, b] = [fwd(16, 1, 1), fwd(17, 2, 0)];
    expect(a.code).toBe(b.code);
    expect(readDims(b.code, b.uniforms)).toMatchObject({ stride: 2, pad: 0 });
    const wgrad = (stride: number, padding: number) => {
      const hw = convOutSize(16, 3, { stride, padding });
      const params = { stride, padding, kernelSize: [3, 3] as [number, number], splits: 2 };
      return conv2dWeightGradPartialKernel({ inputs: [f32([4, 8, 16, 16]), f32([4, 16, hw, hw])], out: f32([2, 16, 8, 3, 3]), params, limits }, direct(8, 16, 2));
    };
    const [c, d] = [wgrad(1, 1), wgrad(2, 1)];
    expect(c.code).toBe(d.code);
    expect(readDims(d.code, d.uniforms)).toMatchObject({ stride: 2, pad: 1 });
  });

  it("is the software default; hardware adapters keep the staged tiles", () => {
    const conv = { op: "conv2d", batch: 1, m: 64, n: 64 * 32 * 32, k: 576 };
    expect(defaultTiles(conv).direct).toBe(true);
    expect(defaultTiles(conv, { ...limits, hardware: false }).direct).toBe(true);
    expect(defaultTiles(conv, { ...limits, hardware: true })).toBe(TILES_64_UNROLLED);
    for (const g of [conv, { op: "matmul", batch: 128, m: 256, n: 8, k: 256 }, { op: "matmul", batch: 1, m: 32, n: 96, k: 8192 }, { op: "conv2d_weight_grad_partial", batch: 32, m: 16, n: 144, k: 32768 }]) {
      expect(() => checkTiles(defaultTiles(g))).not.toThrow();
    }
    // broadcast rows from 5 rows up (groups of 8), none below
    const sub8 = { ...limits, subgroupMinSize: 8 };
    expect(defaultTiles({ ...conv, m: 64 }, sub8)).toBe(TILES_CPU);
    expect(defaultTiles({ ...conv, m: 6 }, sub8)).toMatchObject({ bm: 8, tm: 8, broadcast: true });
    expect(defaultTiles({ ...conv, m: 3 }, sub8).broadcast).toBeUndefined();
    expect(defaultTiles({ ...conv, m: 64 }).broadcast).toBeUndefined(); // no subgroups, no broadcast
  });
});

describe.skipIf(typeof gpu === "string")("direct GEMM kernels against the reference", () => {
  afterEach(() => setTileChooser());

  it.each(configs)("%s: matmul, edges and broadcast batch", async (_, tiles) => {
    if (typeof gpu === "string" || (tiles.broadcast && !subgroups)) return;
    setTileChooser(() => tiles);
    await expectKernelMatchesReference(gpu, "matmul", [{ shape: [2, 70, 37] }, { shape: [37, 133] }], {}, tol);
    await expectKernelMatchesReference(gpu, "matmul", [{ shape: [3, 5, 1] }, { shape: [3, 1, 7] }], {}, tol);
  });

  it.each(configs.filter((_, i) => i !== 2 && i !== 5))("%s: conv2d and its gradients", async (_, tiles) => {
    if (typeof gpu === "string" || (tiles.broadcast && !subgroups)) return;
    setTileChooser(() => tiles);
    for (const [n, ci, h, w, co, k, stride, padding] of convs) {
      const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
      await expectKernelMatchesReference(gpu, "conv2d", [{ shape: [n, ci, h, w] }, { shape: [co, ci, k, k] }], { stride, padding }, tol);
      await expectKernelMatchesReference(gpu, "conv2d_input_grad", [{ shape: [n, co, oh, ow] }, { shape: [co, ci, k, k] }], { stride, padding, inputSize: [h, w] }, tol);
      await expectKernelMatchesReference(gpu, "conv2d_weight_grad", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k] }, tol);
    }
  });

  it.each([configs[0], configs[1], configs[3], configs[6], configs[7], configs[8]])("%s: split-K conv2d_weight_grad_partial", async (_, tiles) => {
    if (typeof gpu === "string" || (tiles.broadcast && !subgroups)) return;
    setTileChooser(() => tiles);
    // 3 chunks of 2 samples x 9 pixels (chunks end mid-tile), and 2 chunks of 2 x 63
    for (const [[n, ci, h, w, co, k, stride, padding], splits] of [[[6, 2, 5, 5, 4, 3, 2, 0], 3], [[4, 3, 9, 7, 5, 3, 1, 1], 2], [[4, 3, 7, 6, 11, 3, 1, 1], 4]] as const) {
      const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
      await expectKernelMatchesReference(gpu, "conv2d_weight_grad_partial", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k], splits }, tol);
    }
  });
});

// matmul and the three convolutions (tiled implicit-GEMM kernels) against the reference
// interpreter: sizes that are not tile multiples, batch broadcasting, strides 1 and 2,
// padding 0 and 1, 1x1 and 3x3 kernels, and other tile configurations than the default's;
// plus FileCheck-style checks of the generated WGSL (no adapter needed).
import { afterEach, describe, expect, it } from "vitest";
import { conv2dKernel, conv2dWeightGradPartialKernel, convOutSize } from "../../compiler/ops/conv2d.js";
import { matmulKernel } from "../../compiler/ops/matmul.js";
import { readDims } from "../../compiler/wgsl/dims.js";
import { TILES_32, TILES_64, TILES_64_UNROLLED, TILES_CPU, TILES_CPU_N16, TILES_CPU_N8, checkTiles, defaultTiles, setTileChooser, sharedBytes, type GemmTiles } from "../../compiler/wgsl/gemm.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();
const tol = { rtol: 1e-4 };

const matmuls: Array<[number[], number[]]> = [
  [[7, 13], [13, 5]],
  [[3, 64, 65], [65, 33]],
  [[3, 64, 65], [3, 65, 33]],
  [[2, 5, 8], [8, 3]],
  [[5, 8], [2, 8, 3]],
  [[2, 1, 4, 6], [3, 6, 2]],
  [[1, 1], [1, 1]],
  [[130, 70], [70, 129]],
];

// (N, Ci, H, W, Co, k, stride, pad)
const convs: Array<[number, number, number, number, number, number, number, number]> = [
  [2, 3, 9, 7, 5, 3, 1, 1],
  [2, 4, 8, 8, 6, 3, 2, 1],
  [1, 5, 6, 6, 7, 1, 1, 0],
  [3, 2, 5, 5, 4, 3, 1, 0],
  [2, 16, 16, 16, 32, 3, 1, 1],
  [2, 3, 7, 9, 4, 3, 2, 0],
  [1, 4, 5, 5, 3, 1, 2, 0],
];

// On a software adapter the default is a direct GEMM (kernels-gemm-direct.test.ts); these run
// the staged tiles of hardware adapters (TILES_64, TILES_32) and configurations a tuner may pick, covering each code path
// of the tile loads: several threads per staged column, one thread over several columns (64
// threads, 128 columns), a BK that does not divide the thread count, unequal register blocks,
// a constant-trip inner loop. The load paths are the same for every op (matmul's A walks k,
// its B walks n) and each kernel costs lavapipe seconds to compile, so only TILES_64 also
// runs the three convolutions.
const tileConfigs: Array<[string, GemmTiles]> = [
  ["64x64x16 4x4 (TILES_64)", TILES_64],
  ["32x32x8 2x2 (TILES_32, the hardware default for small outputs)", TILES_32],
  ["128x128x8 8x8", { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 }],
  ["32x128x8 4x16", { bm: 32, bn: 128, bk: 8, tm: 4, tn: 16 }],
  ["16x16x12 2x2", { bm: 16, bn: 16, bk: 12, tm: 2, tn: 2 }],
  ["32x16x8 4x2 unrolled", { bm: 32, bn: 16, bk: 8, tm: 4, tn: 2, unroll: true }],
];

// conv2d_weight_grad_partial: (conv, splits), split-K chunks of whole samples: 2 and 4 parts,
// a chunk of 8 pixels (one BK 8 step), of 9 (not a BK multiple), of 256 with 16x16 pixels
const partials: Array<[(typeof convs)[number], number]> = [
  [convs[0], 2],
  [[4, 3, 9, 7, 5, 3, 1, 1], 4],
  [[6, 2, 5, 5, 4, 3, 2, 0], 3],
  [[3, 2, 5, 5, 4, 3, 1, 0], 3],
  [convs[4], 2],
];

const convName = ([n, ci, h, w, co, k, s, p]: (typeof convs)[number]) => `x [${n},${ci},${h},${w}] w [${co},${ci},${k},${k}] stride ${s} pad ${p}`;

const f32 = (shape: number[]) => ({ shape, dtype: "f32" as const });
const limits = { maxWorkgroupsPerDimension: 65535 };

describe("GEMM kernel generation", () => {
  it.each([...tileConfigs, ["32x32x8 2x2 (TILES_32)", TILES_32] as const])("%s fits 256 threads and 16 KiB of workgroup memory", (_, t) => {
    expect(() => checkTiles(t)).not.toThrow();
    expect(sharedBytes(t)).toBeLessThanOrEqual(16384);
  });

  it("rejects configurations over the limits", () => {
    expect(() => checkTiles({ bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 })).toThrow(/workgroup memory/);
    expect(() => checkTiles({ bm: 64, bn: 64, bk: 16, tm: 2, tn: 2 })).toThrow(/1024 threads/);
    expect(() => checkTiles({ bm: 64, bn: 64, bk: 16, tm: 3, tn: 4 })).toThrow(/integers/);
  });

  it("picks 64x64 tiles on hardware for large outputs and 32x32 when 64x64 leaves few workgroups", () => {
    const hw = { ...limits, hardware: true };
    expect(defaultTiles({ op: "conv2d", batch: 1, m: 64, n: 64 * 32 * 32, k: 576 }, hw)).toBe(TILES_64_UNROLLED);
    expect(defaultTiles({ op: "conv2d_weight_grad", batch: 1, m: 64, n: 576, k: 65536 }, hw)).toBe(TILES_32);
    // split-K parts count as workgroups
    expect(defaultTiles({ op: "conv2d_weight_grad_partial", batch: 16, m: 64, n: 576, k: 65536 }, hw)).toBe(TILES_64_UNROLLED);
  });

  it("picks direct tiles by N on software adapters, broadcast rows only with subgroups of 8", () => {
    const conv = { op: "conv2d", batch: 1, m: 64, n: 64 * 32 * 32, k: 576 };
    const sub8 = { ...limits, hardware: false, subgroupMinSize: 8 };
    expect(defaultTiles(conv, sub8)).toBe(TILES_CPU);
    expect(defaultTiles({ ...conv, batch: 128, m: 256, n: 8 }, sub8)).toBe(TILES_CPU_N8);
    expect(defaultTiles({ ...conv, n: 12 }, sub8)).toBe(TILES_CPU_N16);
    expect(defaultTiles({ ...conv, m: 3 }, sub8)).toEqual({ bm: 4, bn: 32, bk: 1, tm: 4, tn: 4, direct: true });
    // no subgroups (or subgroups of 4: lavapipe on SSE), and no limits at all: 16x16/16x2, rows loaded per lane
    for (const l of [limits, { ...sub8, subgroupMinSize: 4 }, undefined]) {
      expect(defaultTiles(conv, l)).toEqual({ bm: 16, bn: 16, bk: 1, tm: 16, tn: 2, direct: true });
      expect(() => checkTiles(defaultTiles(conv, l))).not.toThrow();
    }
  });

  it("generates a split-K GEMM for conv2d_weight_grad_partial", () => {
    const params = { stride: 1, padding: 1, kernelSize: [3, 3] as [number, number], splits: 16 };
    const req = { inputs: [f32([64, 64, 32, 32]), f32([64, 64, 32, 32])], out: f32([16, 64, 64, 3, 3]), params, limits };
    const { workgroups, code, uniforms } = conv2dWeightGradPartialKernel(req, TILES_64);
    expect(workgroups).toEqual([16 * 9, 1, 1]);
    expect(code).toContain("// conv2d_weight_grad_partial as GEMM split along K, tiles 64x64x16");
    expect(code).toContain("let kBase = b * dims.chunk;");
    expect(code).toContain("let kEnd = min(kBase + dims.chunk, dims.k);");
    expect(code).toContain("let kLen = dims.chunk;");
    expect(code).toContain("let k = kBase + k0 + kk;");
    expect(code).toContain("xA0 < dims.m && k < kEnd); }");
    expect(code).toContain("write((b * dims.co + m) * dims.cikhw + n, v);");
    expect(readDims(code, uniforms)).toMatchObject({ m: 64, n: 576, k: 65536, chunk: 4096, co: 64, cikhw: 576 });
  });

  it("folds grids over maxComputeWorkgroupsPerDimension", () => {
    const req = { inputs: [f32([4096, 1024, 8]), f32([8, 64])], out: f32([4096, 1024, 64]), params: {}, limits };
    const { workgroups, code, uniforms } = matmulKernel(req, TILES_64);
    expect(workgroups[0]).toBeLessThanOrEqual(65535);
    expect(workgroups[0] * workgroups[1]).toBeGreaterThanOrEqual(4096 * 16);
    expect(code).toContain("if (tile >= dims.tiles) { return; }");
    expect(readDims(code, uniforms).tiles).toBe(65536);
  });

  it("generates an implicit GEMM for conv2d", () => {
    const req = { inputs: [f32([64, 64, 32, 32]), f32([128, 64, 3, 3])], out: f32([64, 128, 32, 32]), params: { stride: 1, padding: 1 }, limits };
    const { workgroups, code, uniforms } = conv2dKernel(req, TILES_64);
    expect(workgroups).toEqual([2 * 1024, 1, 1]);
    expect(code).toContain("// conv2d as GEMM, tiles 64x64x16, 4x4 per thread; sizes in dims");
    expect(code).toContain("@workgroup_size(16, 16)");
    expect(code).toContain("var<workgroup> tileA: array<f32, 1040>; // [BK, BM + 1]");
    expect(code).toContain("let kLen = dims.chunk;");
    expect(readDims(code, uniforms)).toMatchObject({ m: 128, n: 65536, k: 576, chunk: 576 });
    expect(code).toContain("for (var kk = 0u; kk < min(16u, kLen - k0); kk++) {");
    expect(code).toContain("c3_3 = fma(a3, b3, c3_3);");
  });
});

describe.skipIf(typeof gpu === "string")(`linear kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  it.each(matmuls)("matmul %j @ %j", async (a, b) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "matmul", [{ shape: a }, { shape: b }], {}, tol);
  });

  it("folds the grid into 2-D under a small maxComputeWorkgroupsPerDimension", async () => {
    if (typeof gpu === "string") return;
    const small = withWorkgroupLimit(gpu, 5); // 12 tiles of 32x32 -> a 5 x 3 grid, 3 idle workgroups
    await expectKernelMatchesReference(small, "matmul", [{ shape: [3, 64, 65] }, { shape: [65, 33] }], {}, tol);
    await expectKernelMatchesReference(small, "conv2d", [{ shape: [2, 16, 16, 16] }, { shape: [32, 16, 3, 3] }], { stride: 1, padding: 1 }, tol);
  });

  it.each(convs.map((c) => [convName(c), c] as const))("conv2d %s", async (_, [n, ci, h, w, co, k, stride, padding]) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, "conv2d", [{ shape: [n, ci, h, w] }, { shape: [co, ci, k, k] }], { stride, padding }, tol);
  });

  it.each(convs.map((c) => [convName(c), c] as const))("conv2d_input_grad %s", async (_, [n, ci, h, w, co, k, stride, padding]) => {
    if (typeof gpu === "string") return;
    const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
    await expectKernelMatchesReference(gpu, "conv2d_input_grad", [{ shape: [n, co, oh, ow] }, { shape: [co, ci, k, k] }], { stride, padding, inputSize: [h, w] }, tol);
  });

  it.each(convs.map((c) => [convName(c), c] as const))("conv2d_weight_grad %s", async (_, [n, ci, h, w, co, k, stride, padding]) => {
    if (typeof gpu === "string") return;
    const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
    await expectKernelMatchesReference(gpu, "conv2d_weight_grad", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k] }, tol);
  });

  it.each(partials.map(([c, splits]) => [convName(c), splits, c] as const))("conv2d_weight_grad_partial %s, %i splits", async (_, splits, [n, ci, h, w, co, k, stride, padding]) => {
    if (typeof gpu === "string") return;
    const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
    await expectKernelMatchesReference(gpu, "conv2d_weight_grad_partial", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k], splits }, tol);
  });
});

describe.skipIf(typeof gpu === "string")("linear kernels with other tile configurations", () => {
  afterEach(() => setTileChooser());

  it.each(tileConfigs)("%s: matmul", async (_, tiles) => {
    if (typeof gpu === "string") return;
    setTileChooser(() => tiles);
    await expectKernelMatchesReference(gpu, "matmul", [{ shape: [2, 70, 37] }, { shape: [37, 133] }], {}, tol);
  });

  it.each(tileConfigs.slice(0, 2))("%s: conv2d and its gradients", async (_, tiles) => {
    if (typeof gpu === "string") return;
    setTileChooser(() => tiles);
    const [n, ci, h, w, co, k, stride, padding] = convs[1];
    const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
    await expectKernelMatchesReference(gpu, "conv2d", [{ shape: [n, ci, h, w] }, { shape: [co, ci, k, k] }], { stride, padding }, tol);
    await expectKernelMatchesReference(gpu, "conv2d_input_grad", [{ shape: [n, co, oh, ow] }, { shape: [co, ci, k, k] }], { stride, padding, inputSize: [h, w] }, tol);
    await expectKernelMatchesReference(gpu, "conv2d_weight_grad", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k] }, tol);
  });

  it.each([tileConfigs[0], tileConfigs[1], tileConfigs[5]])("%s: conv2d_weight_grad_partial", async (_, tiles) => {
    if (typeof gpu === "string") return;
    setTileChooser(() => tiles);
    const [n, ci, h, w, co, k, stride, padding] = partials[3][0];
    const [oh, ow] = [convOutSize(h, k, { stride, padding }), convOutSize(w, k, { stride, padding })];
    await expectKernelMatchesReference(gpu, "conv2d_weight_grad_partial", [{ shape: [n, ci, h, w] }, { shape: [n, co, oh, ow] }], { stride, padding, kernelSize: [k, k], splits: 3 }, tol);
  });
});

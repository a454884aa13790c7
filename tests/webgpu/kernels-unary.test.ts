import { describe, expect, it } from "vitest";
import { UNARY_KINDS, type UnaryKind } from "../../compiler/ir/kinds.js";
import { registry } from "../../compiler/ops/index.js";
import { FLAT_ELEMENTS_CPU } from "../../compiler/wgsl/wgsl.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";
import { withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();

/** Input ranges over each op's domain: positive for log/sqrt/rsqrt, wide where overflow could bite. */
const domains: { [K in UnaryKind]: Array<[number, number]> } = {
  neg: [[-1, 1]],
  exp: [[-1, 1], [-80, 80]],
  log: [[0.01, 1], [0.5, 1000]],
  sin: [[-1, 1], [-1000, 1000]],
  cos: [[-1, 1], [-1000, 1000]],
  sqrt: [[0, 1], [0.5, 1000]],
  rsqrt: [[0.01, 1], [0.5, 1000]],
  sigmoid: [[-1, 1], [-100, 100]],
  tanh: [[-1, 1], [-100, 100]],
  erf: [[-1, 1], [-6, 6]],
  square: [[-1, 1], [-100, 100]],
  relu: [[-1, 1]],
  step: [[-1, 1]],
};

// An odd size (a full and a partial workgroup) and a scalar; the kernel is flat, so other
// shapes of the same size give the same code. Each distinct kernel costs ~0.1 s of LLVM JIT on
// lavapipe the first time, so cases that add no coverage are left out.
const shapes = [[3, 5, 7], []];

// The default tolerance (rtol 1e-5 of the largest |ref|) holds for every op on lavapipe, exp on
// [-80, 80] included (3.5e-6 there: lavapipe computes exp(x) as exp2(x * log2(e))).
describe.skipIf(typeof gpu === "string")(`unary kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const op of UNARY_KINDS) {
    for (const range of domains[op]) {
      it.each(shapes.map((s) => [s]))(`${op} on [${range}] %j`, async (shape) => {
        if (typeof gpu === "string") return;
        await expectKernelMatchesReference(gpu, op, [{ shape, range }], {});
      });
    }
  }

  it.each(["exp", "erf", "tanh"] as const)("%s on 300k elements", async (op) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, op, [{ shape: [300_000], range: [-4, 4] }], {});
  });

  it.each(["relu", "step"] as const)("%s at its kink: 0 and -0 map to 0", async (op) => {
    if (typeof gpu === "string") return;
    const data = Float32Array.of(0, -0, 1e-30, -1e-30, 2, -2);
    await expectKernelMatchesReference(gpu, op, [{ shape: [6], data }], {});
  });

  // atol 0: near 0 the bound is relative to |x| ~ 1e-3, so these check relative precision
  it.each(["erf", "tanh", "sin", "sigmoid"] as const)("%s keeps its relative precision near 0", async (op) => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(gpu, op, [{ shape: [1000], range: [-1e-3, 1e-3] }], {}, { atol: 0 });
  });

  it("folds the dispatch into 2-D past maxComputeWorkgroupsPerDimension", async () => {
    if (typeof gpu === "string") return;
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 7), "exp", [{ shape: [300_000] }], {});
    await expectKernelMatchesReference(withWorkgroupLimit(gpu, 1), "neg", [{ shape: [3, 5, 7] }], {});
  });
});

describe("unary WGSL", () => {
  const limits = { maxWorkgroupsPerDimension: 65535 };
  const gpuLimits = { ...limits, hardware: true };
  const source = (op: UnaryKind, shape: number[], lim = limits) =>
    registry[op].wgsl!({ inputs: [{ shape, dtype: "f32" }], out: { shape, dtype: "f32" }, params: {}, limits: lim });

  it("is one flat loop with the op's expression, one element per invocation on a GPU", () => {
    const k = source("sigmoid", [3, 5, 7], gpuLimits);
    expect(k.code).toContain("if (i >= 105u) { return; }");
    expect(k.code).toContain("out[i] = 1.0 / (1.0 + exp(-x));");
    expect(k.code).not.toContain("for (var e");
    expect(k.workgroups).toEqual([2, 1, 1]);
  });

  it("takes FLAT_ELEMENTS_CPU elements a workgroup apart per invocation on a software adapter", () => {
    const k = source("sigmoid", [3, 5, 7]);
    expect(k.code).toContain(`let first = (wid.x + wid.y * nwg.x) * ${64 * FLAT_ELEMENTS_CPU}u + lid;`);
    expect(k.code).toContain("let i = first + e * 64u;");
    expect(k.code).toContain("if (i >= 105u) { return; }");
    expect(k.code).toContain("out[i] = 1.0 / (1.0 + exp(-x));");
    expect(k.workgroups).toEqual([1, 1, 1]);
    expect(source("neg", [300_000]).workgroups).toEqual([Math.ceil(300_000 / (64 * FLAT_ELEMENTS_CPU)), 1, 1]);
  });

  it("folds its grid under the limit", () => {
    expect(source("neg", [300_000], gpuLimits).workgroups).toEqual([4688, 1, 1]);
    expect(source("neg", [300_000], { ...gpuLimits, maxWorkgroupsPerDimension: 7 }).workgroups).toEqual([7, 670, 1]);
  });

  it("brings its own erf and tanh, only where used", () => {
    expect(source("erf", [4]).code).toContain("fn erf_f32(x: f32) -> f32");
    expect(source("tanh", [4]).code).toContain("fn tanh_f32(x: f32) -> f32");
    expect(source("exp", [4]).code).not.toContain("_f32(");
  });
});

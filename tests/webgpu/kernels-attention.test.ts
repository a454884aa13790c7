// The fused attention kernels (compiler/ops/attention.ts) against the reference interpreter, in
// both layouts (8 rows per workgroup on a software adapter, with the streamed rows by subgroup
// broadcast where the adapter has subgroups and without; 64 on a GPU): head sizes 1..16, one
// to four heads (three: not a power of two), sequences shorter than a workgroup, no multiple of
// it, and the 16x16 tokens of the lesson's attention. The forward that also stores
// attention_lse (the schedule's fusion of the two) is checked in every output.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import type { CompiledGraph } from "../../compiler/compile.js";
import type { InputSpec } from "./gpu-harness.js";
import { expectGraphMatchesReference, expectKernelMatchesReference, getGpu, randomData } from "./gpu-harness.js";
import { asHardware, withoutSubgroups, withWorkgroupLimit } from "./small-limits.js";

const gpu = await getGpu();

/** [N, S, heads, d] */
const cases: [number, number, number, number][] = [
  [2, 16, 1, 8], [2, 17, 2, 4], [1, 256, 4, 8], [3, 5, 2, 8], [1, 64, 1, 16], [2, 1, 1, 2], [2, 9, 3, 4], [1, 70, 2, 1],
];

const OPS = ["attention", "attention_lse", "attention_stats", "attention_grad"] as const;

const inputsFor = (op: (typeof OPS)[number], [n, s, heads, d]: [number, number, number, number]): InputSpec[] => {
  const qkv: InputSpec = { shape: [n, s, 3 * heads * d], range: [-2, 2] };
  const rows: InputSpec = { shape: [n, s, heads * d] };
  if (op === "attention" || op === "attention_lse") return [qkv];
  if (op === "attention_stats") return [{ shape: [n, heads, s], range: [0, 4] }, rows, rows];
  return [qkv, rows, { shape: [n, heads, s, 2], range: [0, 2] }];
};

/** attention and attention_lse of one qkv, both outputs: one kernel. */
function forwardWithLse([n, s, heads, d]: [number, number, number, number]) {
  const b = new GraphBuilder();
  const qkv = b.input("qkv", [n, s, 3 * heads * d]);
  b.output("out", b.op("attention", [qkv], { heads }));
  b.output("lse", b.op("attention_lse", [qkv], { heads }));
  return { graph: b.build(), feeds: { qkv: { shape: [n, s, 3 * heads * d], data: randomData(n * s * 3 * heads * d, 11, -2, 2) } } };
}
const oneKernel = (c: CompiledGraph) => expect(c.kernels.map((k) => k.label)).toEqual(["attention+lse"]);

describe.skipIf(typeof gpu === "string")(`attention kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const layout of ["device", "no subgroups", "hardware"] as const) {
    for (const op of OPS) {
      it.each(cases.map((c) => [c]))(`${op} [N, S, heads, d] = %j (${layout} layout)`, async (c) => {
        if (typeof gpu === "string") return;
        const ctx = layout === "hardware" ? asHardware(gpu) : layout === "no subgroups" ? withoutSubgroups(gpu) : gpu;
        await expectKernelMatchesReference(ctx, op, inputsFor(op, c), { heads: c[2] }, { rtol: 1e-5, atol: 1e-5 });
      });
    }
    it.each(cases.map((c) => [c]))(`attention with its logsumexp, one kernel, [N, S, heads, d] = %j (${layout} layout)`, async (c) => {
      if (typeof gpu === "string") return;
      const ctx = layout === "hardware" ? asHardware(gpu) : layout === "no subgroups" ? withoutSubgroups(gpu) : gpu;
      const { graph, feeds } = forwardWithLse(c);
      await expectGraphMatchesReference(ctx, graph, feeds, { inspect: oneKernel });
    });
  }

  it("folds the dispatch into 2-D past the workgroup limit", async () => {
    if (typeof gpu === "string") return;
    for (const op of OPS) {
      await expectKernelMatchesReference(withWorkgroupLimit(gpu, 3), op, inputsFor(op, [3, 20, 2, 4]), { heads: 2 }, { rtol: 1e-5, atol: 1e-5 });
      await expectKernelMatchesReference(withWorkgroupLimit(asHardware(gpu), 2), op, inputsFor(op, [3, 70, 2, 4]), { heads: 2 }, { rtol: 1e-5, atol: 1e-5 });
    }
  });
});

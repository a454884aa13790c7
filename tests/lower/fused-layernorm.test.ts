// LayerNorm (the attention blocks' norm) lowers to the fused ops (ops/layernorm.ts) at opt 1, in
// the training step and in eval, and to means and elementwise ops at opt 0. Training with and
// without every fusion, attention's LayerNorm included, is compared in fused-attention.test.ts;
// here the eval forward of both lowerings, on the reference interpreter in float64.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { buildGraph } from "../../compiler/compile.js";
import { isSource } from "../../compiler/ir/types.js";
import { runGraph, type Feed } from "../../runtime/reference/interpreter.js";
import { Rng } from "../../runtime/session/rng.js";

const checked = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=[4,8]", "num_layers=1", "attn_chans=2", "attn_start=1", "classes=3"] });
const model = checked.graph!;

const graphOf = (opt: 0 | 1, mode: "step" | "eval") => buildGraph(model, { batch: 2, mode, opt });
const ops = (opt: 0 | 1, mode: "step" | "eval") => graphOf(opt, mode).nodes.filter((n) => !isSource(n)).map((n) => n.op);

describe("fused LayerNorm", () => {
  it("opt 1 lowers LayerNorm to the fused ops, opt 0 to means and elementwise ops", () => {
    const [fused, plain] = [ops(1, "step"), ops(0, "step")];
    for (const k of ["layernorm_stats", "layernorm_apply", "layernorm_input_grad", "layernorm_param_grad"]) expect(fused).toContain(k);
    expect(plain.some((k) => k.startsWith("layernorm_"))).toBe(false);
    expect(ops(1, "eval")).toContain("layernorm_apply");
    expect(plain.filter((k) => k === "rsqrt").length).toBeGreaterThan(fused.filter((k) => k === "rsqrt").length);
  });

  it("computes the same eval forward with and without it", () => {
    const [a, b] = [graphOf(1, "eval"), graphOf(0, "eval")];
    const rng = new Rng(9);
    const feeds = new Map<string, Feed>();
    for (const n of b.nodes) {
      if (!isSource(n)) continue;
      const size = n.shape.reduce((x, y) => x * y, 1);
      const data = n.dtype === "i32" ? Int32Array.from({ length: size }, () => rng.int(3)) : Float64Array.from({ length: size }, () => (n.name.endsWith("running_var") ? 1 + rng.uniform() : rng.normal() * 0.5));
      feeds.set(n.name, { shape: n.shape, data });
    }
    const run = (g: typeof a) => runGraph(g, feeds, { precision: "f64" }).outputs;
    const [ya, yb] = [run(a), run(b)];
    expect(b.outputs.length).toBeGreaterThan(0);
    for (const o of b.outputs) {
      const [got, want] = [ya[o.name].data, yb[o.name].data];
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, o.name).toBeLessThan(1e-9);
    }
  });
});

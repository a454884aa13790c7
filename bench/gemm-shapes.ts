// The GEMMs of a compiled training step (matmul and the convolutions, compiler/wgsl/gemm.ts):
// each distinct kernel request once, with its GEMM shape (as a tile chooser sees it) and how
// many kernels of the step use it. Used by bench/kernels.ts --real to time the shapes the
// lesson's models really have, and runnable alone to list them:
//
//   npx tsx bench/gemm-shapes.ts [S|M] [--batch N]
import { compileSpec, type Compiled } from "../compiler/compile.js";
import type { KernelLimits, KernelRequest, KernelSource } from "../compiler/wgsl/kernel.js";
import { defaultTiles, setTileChooser, type GemmShape, type GemmTiles } from "../compiler/wgsl/gemm.js";
import { matmulKernel } from "../compiler/ops/matmul.js";
import { conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel, conv2dWeightGradPartialKernel } from "../compiler/ops/conv2d.js";
import type { ValueType } from "../compiler/ir/types.js";
import { isSource } from "../compiler/ir/types.js";

/** The lesson's configurations (issue 11): S, the small conditional model, and M, the lesson's model. */
export const CONFIGS: Record<string, string[]> = {
  S: ["nfs=[16,32,64]", "num_layers=1", "attn_chans=8", "attn_start=1", "classes=10"],
  M: ["nfs=[32,64,128,256]", "num_layers=2", "attn_start=1", "classes=10"],
};

export interface RealGemm {
  readonly op: string;
  readonly shape: GemmShape;
  /** Kernels of the step with this request. */
  readonly count: number;
  readonly flops: number;
  readonly inputs: readonly ValueType[];
  readonly out: ValueType;
  /** The kernel with the given tiles (the chooser's when absent). */
  readonly kernel: (limits: KernelLimits, tiles?: GemmTiles) => KernelSource;
}

type Gen = (req: KernelRequest<never>, tiles?: GemmTiles) => KernelSource;
const GENERATORS: Record<string, Gen> = {
  matmul: matmulKernel as Gen,
  conv2d: conv2dKernel as Gen,
  conv2d_input_grad: conv2dInputGradKernel as Gen,
  conv2d_weight_grad: conv2dWeightGradKernel as Gen,
  conv2d_weight_grad_partial: conv2dWeightGradPartialKernel as Gen,
};

export function compileConfig(config: string, batch: number): Compiled {
  const r = compileSpec("models/lesson/emb_unet.unet", { set: CONFIGS[config] }, { batch, mode: "step" });
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.compiled;
}

/** Every distinct GEMM of the step, most FLOPs (count x per kernel) first. */
export function realGemms(compiled: Compiled): RealGemm[] {
  const types = new Map(compiled.graph.nodes.map((n) => [n.id, { shape: n.shape, dtype: n.dtype } as ValueType]));
  const found = new Map<string, { g: Omit<RealGemm, "count">; count: number }>();
  const limits: KernelLimits = { maxWorkgroupsPerDimension: compiled.limits.maxComputeWorkgroupsPerDimension };
  for (const node of compiled.graph.nodes) {
    if (isSource(node)) continue;
    const gen = GENERATORS[node.op];
    if (!gen) continue;
    const inputs = node.inputs.map((i) => types.get(i)!);
    const out: ValueType = { shape: node.shape, dtype: node.dtype };
    const req = { inputs, out, params: node.params, limits } as unknown as KernelRequest<never>;
    let shape: GemmShape | undefined;
    setTileChooser((g, l) => ((shape = { op: g.op, batch: g.batch, m: g.m, n: g.n, k: g.k }), defaultTiles(g, l)));
    gen(req);
    setTileChooser();
    const key = JSON.stringify([node.op, inputs, out, node.params]);
    const prev = found.get(key);
    if (prev) prev.count++;
    else found.set(key, { count: 1, g: { op: node.op, shape: shape!, flops: 2 * (node.op === "conv2d_weight_grad_partial" ? 1 : shape!.batch) * shape!.m * shape!.n * shape!.k, inputs, out, kernel: (l, t) => gen({ ...req, limits: l } as KernelRequest<never>, t) } });
  }
  return [...found.values()].map(({ g, count }) => ({ ...g, count })).sort((a, b) => b.flops * b.count - a.flops * a.count);
}

export const shapeName = (s: GemmShape) => `${s.batch}x[${s.m}x${s.k}]x[${s.k}x${s.n}]`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = process.argv[2] ?? "S";
  const i = process.argv.indexOf("--batch");
  const batch = i >= 0 ? Number(process.argv[i + 1]) : 32;
  const gemms = realGemms(compileConfig(config, batch));
  const total = gemms.reduce((s, g) => s + g.flops * g.count, 0);
  console.log(`${config} batch ${batch}: ${gemms.length} distinct GEMMs, ${gemms.reduce((s, g) => s + g.count, 0)} kernels, ${(total / 1e9).toFixed(2)} GFLOP`);
  for (const g of gemms) {
    console.log(`${g.op.padEnd(28)} ${shapeName(g.shape).padEnd(28)} x${String(g.count).padEnd(4)} ${((g.flops * g.count) / total * 100).toFixed(1).padStart(5)}%`);
  }
}

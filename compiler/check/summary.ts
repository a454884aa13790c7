// The `unetc check` report: a per-layer table (torchinfo style) and totals, as text or JSON.
import type { ModelGraph, LayerNode } from "./model-graph.js";
import { modelTotals, numel } from "./model-graph.js";
import { shapeText } from "./values.js";

const SKIP_OPS = new Set(["const", "input"]);

export interface LayerRow {
  path: string;
  op: string;
  shape: number[];
  params: number;
  flops: number;
}

export function layerRows(g: ModelGraph): LayerRow[] {
  return g.nodes
    .filter((n: LayerNode) => !SKIP_OPS.has(n.op))
    .map((n) => ({
      path: n.path || "(model)",
      op: n.op,
      shape: n.shape,
      params: n.params.filter((p) => p.kind === "param").reduce((s, p) => s + numel(p.shape), 0),
      flops: n.flops,
    }));
}

const thousands = (n: number) => n.toLocaleString("en-US");

function human(n: number, unit: string): string {
  const steps: Array<[number, string]> = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [v, p] of steps) if (n >= v) return `${(n / v).toFixed(2)} ${p}${unit}`;
  return `${n} ${unit}`;
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(2)} KiB`;
  return `${n} B`;
}

export function summaryText(g: ModelGraph, file: string): string {
  const rows = layerRows(g);
  const t = modelTotals(g);
  const pathW = Math.max(5, ...rows.map((r) => r.path.length));
  const opW = Math.max(2, ...rows.map((r) => r.op.length));
  const shapeW = Math.max(12, ...rows.map((r) => shapeText(r.shape).length));
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(pathW)}  ${b.padEnd(opW)}  ${c.padEnd(shapeW)}  ${d.padStart(11)}`;
  const cfg = Object.entries(g.config)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
  const inputs = g.inputs.map((i) => `${i.name}: ${i.kind}${i.kind === "image" ? shapeText(i.shape) : i.kind === "label" ? `[${i.classes}]` : ""}`).join(", ");
  const out = [
    `model ${g.name} (${file})`,
    `config: ${cfg}`,
    `inputs: ${inputs}`,
    "",
    line("layer", "op", "output shape", "params"),
    "-".repeat(pathW + opW + shapeW + 17),
    ...rows.map((r) => line(r.path, r.op, shapeText(r.shape), r.params ? thousands(r.params) : "-")),
    "-".repeat(pathW + opW + shapeW + 17),
    `parameters:            ${thousands(t.parameters)} trainable, ${thousands(t.buffers)} buffer values`,
    `forward FLOPs / image: ${thousands(t.flops)} (${human(t.flops, "FLOP")})`,
    `activations / image:   ${thousands(t.activationBytes)} bytes (${bytes(t.activationBytes)}, float32, every layer output)`,
  ];
  return out.join("\n");
}

export function summaryJson(g: ModelGraph, file: string): Record<string, unknown> {
  return {
    ok: true,
    file,
    model: g.name,
    config: g.config,
    inputs: g.inputs.map((i) => ({ name: i.name, kind: i.kind, shape: i.shape, classes: i.classes ?? null })),
    layers: layerRows(g),
    parameters: g.parameters.map((p) => ({ name: p.name, shape: p.shape, kind: p.kind, dtype: p.dtype })),
    totals: modelTotals(g),
  };
}

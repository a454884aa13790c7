// Graphviz form of a graph: sources as ellipses, ops as boxes with their type, outputs as
// plain text. `dot -Tsvg` renders it.

import { formatType } from "./shape.js";
import type { Graph } from "./types.js";
import { isSource } from "./types.js";
import { formatParams, paramsToShow } from "./printer.js";

const quote = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

export function toDot(graph: Graph, name = "unetc"): string {
  const lines = [`digraph ${quote(name)} {`, `  node [shape=box, fontname="monospace", fontsize=10];`];
  for (const n of graph.nodes) {
    if (isSource(n)) {
      lines.push(`  n${n.id} [label=${quote(`${n.name}\n${n.op} ${formatType(n)}`)}, shape=ellipse];`);
      continue;
    }
    const params = formatParams(paramsToShow(n));
    const text = [`%${n.id} ${n.op}`, params, formatType(n), n.label ?? ""].filter((s) => s !== "").join("\n");
    lines.push(`  n${n.id} [label=${quote(text)}];`);
    for (const input of n.inputs) lines.push(`  n${input} -> n${n.id};`);
  }
  graph.outputs.forEach((out, i) => {
    lines.push(`  out${i} [label=${quote(out.name)}, shape=plaintext];`);
    lines.push(`  n${out.value} -> out${i};`);
  });
  lines.push("}");
  return lines.join("\n");
}

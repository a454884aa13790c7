// The model around a compiled eval program, as plain data (ModelData): its inputs and output
// with per-image shapes and dtypes, the parameters it loads (and their EMA names in a
// checkpoint), the class names and, where known, the training schedule.
import type { CompiledGraph } from "../../compile.js";
import { emaTargets } from "../../compile.js";
import type { ModelGraph } from "../../check/model-graph.js";
import { emaName, OUTPUT } from "../../ir/step-contract.js";
import { isSource } from "../../ir/types.js";
import type { ModelData, ModelInputData, ProgramData, RegionData } from "../../wgsl/program-data.js";

export interface ModelDataOptions {
  readonly batch: number;
  /** One per class of a label input; default `class 0`, `class 1`, ... */
  readonly classNames?: readonly string[];
  readonly schedule?: "cosine" | "karras";
}

/** Whether some kernel binds part of `r` (a source may be read through an alias, such as a reshape). */
const isRead = (p: ProgramData, r: RegionData) => p.kernels.some((k) => k.bindings.some((b) => b[0] === r[0] && b[1] < r[1] + r[2] && r[1] < b[1] + b[2]));

export function modelData(model: ModelGraph, c: CompiledGraph, program: ProgramData, o: ModelDataOptions): ModelData {
  const sources = new Map(c.graph.nodes.filter(isSource).map((n) => [n.name, n]));
  const inputs = model.inputs.map((i): ModelInputData => {
    const s = sources.get(i.name);
    const dtype = s?.dtype ?? (i.kind === "label" ? "i32" : "f32");
    return { name: i.name, kind: i.kind, dtype, shape: [...i.shape], ...(i.classes !== undefined ? { classes: i.classes } : {}) };
  });
  const out = c.graph.outputs.find((x) => x.name === OUTPUT);
  if (!out) throw new Error(`internal: the eval graph of ${model.name} has no '${OUTPUT}' output`);
  const outNode = c.graph.nodes[out.value];
  const averaged = new Set(emaTargets(model));
  const regions = new Map(program.sources.map((s) => [s.name, s.region]));
  const parameters = model.parameters.map((p) => {
    const r = regions.get(p.name);
    const optional = !r || !isRead(program, r);
    return { name: p.name, shape: [...p.shape], ...(averaged.has(p.name) ? { ema: emaName(p.name) } : {}), ...(optional ? { optional } : {}) };
  });
  const classes = inputs.find((i) => i.kind === "label")?.classes;
  const classNames = classes === undefined ? undefined : (o.classNames ?? Array.from({ length: classes }, (_, i) => `class ${i}`));
  return {
    name: model.name,
    batch: o.batch,
    inputs,
    output: { name: OUTPUT, dtype: outNode.dtype, shape: outNode.shape.slice(1) },
    parameters,
    ...(classNames ? { classNames: [...classNames] } : {}),
    ...(o.schedule ? { schedule: o.schedule } : {}),
  };
}

// The front end in one call: load the spec and its imports, pick the model, apply overrides,
// elaborate. Stops before elaboration when there are syntax errors (they would only cascade).
import { diag, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.js";
import { loadSpec, type LoadedSpec } from "../load.js";
import type { BlockDecl } from "../syntax/ast.js";
import { Elaborator } from "./elaborate.js";
import type { ModelGraph } from "./model-graph.js";
import { parseOverride } from "./overrides.js";

export interface CheckOptions {
  /** `key=value` strings, as given to `--set`. */
  set?: string[];
  model?: string;
  /** Source text to use instead of reading the file (tests, mutation fuzzing). */
  text?: string;
}

export interface CheckResult {
  graph?: ModelGraph;
  spec: LoadedSpec;
  diagnostics: Diagnostic[];
}

function pickModel(spec: LoadedSpec, name: string | undefined): BlockDecl | Diagnostic {
  const all = [...spec.rootModels, ...spec.importedModels];
  if (name) {
    const m = all.find((d) => d.name.name === name);
    return m ?? diag("E0107", `no model named \`${name}\``, { help: all.length ? `models here: ${all.map((d) => `\`${d.name.name}\``).join(", ")}` : "this spec defines no model" });
  }
  const pool = spec.rootModels.length ? spec.rootModels : spec.importedModels;
  if (pool.length === 1) return pool[0];
  if (pool.length === 0) return diag("E0107", "this spec defines no model", { span: spec.sources[0] ? { file: spec.sources[0], start: 0, end: 0 } : undefined, help: "define one with `model NAME(...) { ... }`" });
  return diag("E0107", `this spec defines ${pool.length} models; pick one with \`--model NAME\``, { span: pool[1].name.span, help: `models: ${pool.map((d) => `\`${d.name.name}\``).join(", ")}` });
}

export function checkSpec(path: string, opts: CheckOptions = {}): CheckResult {
  const spec = loadSpec(path, opts.text);
  const diagnostics = [...spec.diagnostics];
  if (hasErrors(diagnostics)) return { spec, diagnostics };
  const overrides = [];
  for (const s of opts.set ?? []) {
    const r = parseOverride(s);
    diagnostics.push(...r.diagnostics);
    if (r.override) overrides.push(r.override);
  }
  const model = pickModel(spec, opts.model);
  if ("code" in model) return { spec, diagnostics: [...diagnostics, model] };
  if (hasErrors(diagnostics)) return { spec, diagnostics };
  const elab = new Elaborator(spec.program);
  const graph = elab.run(model, overrides);
  return { graph, spec, diagnostics: [...diagnostics, ...elab.diagnostics] };
}

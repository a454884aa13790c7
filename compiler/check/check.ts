// The front end in one call: load the spec and its imports, pick the model, apply overrides,
// elaborate. Stops before elaboration when there are syntax errors (they would only cascade).
import { diag, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.js";
import { makeSource } from "../diagnostics/source.js";
import { loadSpec, type LoadedSpec, type SpecFiles } from "./load.js";
import type { BlockDecl } from "../front/ast.js";
import { Elaborator, type Override } from "./elaborate.js";
import type { LayerNode, ModelGraph } from "./model-graph.js";
import { literal, parseOverride } from "./overrides.js";
import { suggestionHelp } from "./suggest.js";

export interface CheckOptions {
  /** `key=value` strings, as given to `--set`. */
  set?: string[];
  model?: string;
  /** Source text to use instead of reading the file (tests, mutation fuzzing). */
  text?: string;
  /** Where imports are read from (default: the disk; a checkpoint's stored sources). */
  files?: SpecFiles;
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
    if (m) return m;
    // The name is shown in a synthetic source `--model`, as `--set` values are.
    const span = { file: makeSource("--model", name), start: 0, end: name.length };
    const help = suggestionHelp(name, all.map((d) => d.name.name)) ?? (all.length ? `models here: ${all.map((d) => `\`${d.name.name}\``).join(", ")}` : "this spec defines no model");
    return diag("E0107", `no model named \`${name}\``, { span, label: "no model has this name", help });
  }
  const pool = spec.rootModels.length ? spec.rootModels : spec.importedModels;
  if (pool.length === 1) return pool[0];
  if (pool.length === 0) return diag("E0107", "this spec defines no model", { span: spec.sources[0] ? { file: spec.sources[0], start: 0, end: 0 } : undefined, help: "define one with `model NAME(...) { ... }`" });
  return diag("E0107", `this spec defines ${pool.length} models; pick one with \`--model NAME\``, { span: pool[1].name.span, help: `models: ${pool.map((d) => `\`${d.name.name}\``).join(", ")}` });
}

export function checkSpec(path: string, opts: CheckOptions = {}): CheckResult {
  const spec = loadSpec(path, opts.text, opts.files);
  const diagnostics = [...spec.diagnostics];
  if (hasErrors(diagnostics)) return { spec, diagnostics };
  const overrides: Override[] = [];
  for (const s of opts.set ?? []) {
    const r = parseOverride(s);
    diagnostics.push(...r.diagnostics);
    if (!r.override) continue;
    const before = overrides.find((o) => o.key === r.override!.key);
    if (before) {
      diagnostics.push(
        diag("E0202", `\`--set ${before.key}\` is given twice`, {
          span: r.override.span,
          label: "given again here",
          secondary: [{ span: before.span, message: "first given here" }],
          help: "keep one of them",
        }),
      );
    } else overrides.push(r.override);
  }
  const model = pickModel(spec, opts.model);
  if ("code" in model) return { spec, diagnostics: [...diagnostics, model] };
  if (hasErrors(diagnostics)) return { spec, diagnostics };
  const base = resolvePreset(spec, model, diagnostics);
  if (!base) return { spec, diagnostics };
  // Command-line overrides win over a preset's values.
  const merged = [...base.overrides.filter((o) => !overrides.some((c) => c.key === o.key)), ...overrides];
  const elab = new Elaborator(spec.program);
  const graph = elab.run(base.model, merged, model.name.name);
  const tapErrors = graph ? duplicateTaps(graph) : [];
  return { graph: tapErrors.length ? undefined : graph, spec, diagnostics: [...diagnostics, ...elab.diagnostics, ...tapErrors] };
}

/** Two `tap`s with one name would be two graph outputs with one name. */
function duplicateTaps(graph: ModelGraph): Diagnostic[] {
  const first = new Map<string, LayerNode>();
  const out: Diagnostic[] = [];
  for (const n of graph.nodes) {
    if (n.op !== "tap") continue;
    const name = n.attrs.name;
    const prev = first.get(name);
    if (!prev) first.set(name, n);
    else out.push(diag("E0309", `two taps are named "${name}"`, { span: n.span, label: "the second one", secondary: [{ span: prev.span, message: "the first one" }], help: "give each tap its own name" }));
  }
  return out;
}

/** Follows `model a = b(k = v)` to the model with a body, collecting the presets' values (nearest wins). */
function resolvePreset(spec: LoadedSpec, model: BlockDecl, diagnostics: Diagnostic[]): { model: BlockDecl; overrides: Override[] } | undefined {
  const overrides: Override[] = [];
  const chain: BlockDecl[] = [];
  let m = model;
  while (m.preset) {
    const back = chain.indexOf(m);
    if (back >= 0) {
      const links = chain.slice(back);
      const last = links[links.length - 1];
      const link = (d: BlockDecl) => `\`${d.name.name}\` is a preset of \`${d.preset!.base.name}\``;
      diagnostics.push(
        diag("E0108", `presets refer to each other in a cycle: ${[...links, m].map((d) => `\`${d.name.name}\``).join(" -> ")}`, {
          span: last.preset!.base.span,
          label: `${link(last)}, which closes the cycle`,
          secondary: links.slice(0, -1).map((d) => ({ span: d.preset!.base.span, message: link(d) })),
          help: "one model of the chain must have a body: `model NAME(params) { ... }`",
        }),
      );
      return undefined;
    }
    chain.push(m);
    for (const a of m.preset.args) {
      if (!a.name) {
        diagnostics.push(diag("E0106", "a preset gives parameters by name", { span: a.span, help: "write `model small = emb_unet(nfs = [16, 32])`" }));
        return undefined;
      }
      const v = literal(a.value);
      if ("error" in v) {
        diagnostics.push(diag("E0202", `the value of preset parameter \`${a.name.name}\` must be a literal`, { span: a.value.span }));
        return undefined;
      }
      if (!overrides.some((o) => o.key === a.name!.name)) overrides.push({ key: a.name.name, value: v, span: a.span, keySpan: a.name.span });
    }
    const base = spec.program.decls.get(m.preset.base.name);
    if (!base || base.kind !== "model") {
      diagnostics.push(diag("E0107", `\`${m.preset.base.name}\` is not a model`, { span: m.preset.base.span, help: "a preset names a model defined in this file or an imported one" }));
      return undefined;
    }
    m = base;
  }
  return { model: m, overrides };
}

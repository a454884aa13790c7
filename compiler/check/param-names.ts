// Parameter names of the elaboration: every parameter and buffer gets a dotted name (its layer's
// module path plus `weight`, `bias`, ...), and two layers must not make the same name (E0501).
// When they do, the error says how it happened and how to tell them apart: two different layers
// with one name, one layer in a loop without a per-iteration name, or one block called twice.
import type { DiagnosticInit } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { Span } from "../diagnostics/source.js";
import type * as A from "../front/ast.js";
import type { ParamSpec } from "./model-graph.js";
import type { Value } from "./values.js";

/** One pass of a loop: the `for` and the index of the iteration. */
export interface LoopPass {
  stmt: Extract<A.Stmt, { kind: "for" }>;
  index: number;
}

/** Where a layer created its parameters: the call, the loop passes around it, the block call it ran in. */
export interface Site {
  span: Span;
  loops: LoopPass[];
  caller?: Span;
}

type Report = (code: DiagnosticCode, message: string, init: DiagnosticInit) => Value;

const sameSpan = (a: Span, b: Span) => a.file === b.file && a.start === b.start && a.end === b.end;

export class ParamNames {
  /** Every parameter and buffer, in the order the layers created them. */
  readonly params: ParamSpec[] = [];
  private readonly sites = new Map<string, Site>();

  constructor(private readonly report: Report) {}

  /** Records a layer's parameters; names taken before are one E0501 for the layer. `local` is the
   *  layer's `as` name as written, for the help text. */
  register(params: ParamSpec[], site: Site, local: string | undefined): void {
    const taken = params.filter((p) => this.sites.has(p.name));
    for (const p of params) {
      if (this.sites.has(p.name)) continue;
      this.sites.set(p.name, site);
      this.params.push(p);
    }
    if (taken.length === 0) return;
    const names = taken.map((p) => `\`${p.name}\``);
    const what = names.length === 1 ? `parameter ${names[0]}` : names.length === 2 ? `parameters ${names.join(" and ")}` : `parameters ${names.slice(0, 2).join(", ")} and ${names.length - 2} more`;
    this.report("E0501", `${what} would be created twice`, explain(this.sites.get(taken[0].name)!, site, local ?? "NAME"));
  }
}

function explain(first: Site, again: Site, name: string): DiagnosticInit {
  if (!sameSpan(first.span, again.span)) {
    return { span: again.span, label: "second layer with this name", secondary: [{ span: first.span, message: "first created here" }], help: "give one of the layers its own name with `as NAME`" };
  }
  // The same layer ran twice: find the loop whose iteration differs.
  for (let k = 0; k < Math.min(first.loops.length, again.loops.length) && first.loops[k].stmt === again.loops[k].stmt; k++) {
    if (first.loops[k].index === again.loops[k].index) continue;
    const loop = first.loops[k].stmt;
    const indexVar = loop.vars.length === 2 ? loop.vars[0].name : undefined;
    return {
      span: again.span,
      label: `created again in iteration ${again.loops[k].index} of the loop`,
      secondary: [{ span: { ...loop.span, end: loop.iterable.span.end }, message: `iteration ${first.loops[k].index} of this loop created it first` }],
      help: indexVar
        ? `give each iteration its own name with \`as ${name}.{${indexVar}}\`, or label the loop (\`NAME: for ...\`) to put each iteration under \`NAME.<index>\``
        : `label the loop (\`NAME: for ...\`) to put each iteration under \`NAME.<index>\`, or loop with an index (\`for i, x in ...\`) and name the layer \`as ${name}.{i}\``,
    };
  }
  // The same block ran twice, from two calls.
  return {
    span: again.span,
    label: "created again by this call of the block",
    secondary: first.caller ? [{ span: first.caller, message: "an earlier call of the block created it first" }] : [],
    help: "name each call of the block with `as NAME`",
  };
}

// Arguments: binding positional and keyword arguments to parameters, and conforming values to
// the parameters' declared types.
import type { Span } from "../../diagnostics/source.js";
import type * as A from "../../front/ast.js";
import { suggestionHelp } from "../suggest.js";
import { conform, isKnownTypeName, typeFromAst, typeText, type VType } from "../types.js";
import { describeValue, type Value } from "../values.js";
import type { ElabContext } from "./context.js";

/** Binds positional and keyword arguments to parameters; reports unknown and repeated ones. */
export function bindArgs(
  cx: ElabContext,
  callee: string,
  params: { name: string }[],
  e: Extract<A.Expr, { kind: "call" }>,
  opts: { variadic?: boolean; extraKwargs?: boolean },
): { bound: Map<string, A.Arg>; rest: A.Arg[]; extra: A.Arg[] } | undefined {
  const bound = new Map<string, A.Arg>();
  const rest: A.Arg[] = [];
  const extra: A.Arg[] = [];
  let pos = 0;
  let ok = true;
  for (const a of e.args) {
    if (!a.name) {
      if (opts.variadic) rest.push(a);
      else if (pos < params.length) bound.set(params[pos++].name, a);
      else {
        cx.report("E0106", `\`${callee}\` takes ${params.length} argument${params.length === 1 ? "" : "s"}, found ${e.args.filter((x) => !x.name).length} positional`, {
          span: a.span,
          label: "one too many",
          help: `its parameters are ${params.map((p) => `\`${p.name}\``).join(", ")}`,
        });
        ok = false;
      }
      continue;
    }
    const key = a.name.name;
    if (!params.some((p) => p.name === key)) {
      if (opts.extraKwargs) {
        extra.push(a);
        continue;
      }
      cx.report("E0103", `\`${callee}\` has no parameter \`${key}\``, {
        span: a.name.span,
        label: "unknown keyword",
        help: suggestionHelp(key, params.map((p) => p.name)) ?? `its parameters are ${params.map((p) => `\`${p.name}\``).join(", ")}`,
      });
      ok = false;
      continue;
    }
    if (bound.has(key)) {
      cx.report("E0106", `argument \`${key}\` is given twice`, { span: a.span, secondary: [{ span: bound.get(key)!.span, message: "first given here" }] });
      ok = false;
      continue;
    }
    bound.set(key, a);
  }
  if (ok) return { bound, rest, extra };
  cx.notRun({ exprs: e.args.map((a) => a.value) });
  return undefined;
}

export function declaredType(cx: ElabContext, p: A.Param): VType | undefined {
  if (!p.type) return undefined;
  if (p.type.kind === "named" && !isKnownTypeName(p.type.name)) {
    cx.report("E0201", `unknown type \`${p.type.name}\``, { span: p.type.span, help: "types are `int`, `float`, `bool`, `str`, `tensor`, `[T]` and string unions like `\"a\" | \"b\"`" });
    return undefined;
  }
  return typeFromAst(p.type);
}

export function conformParam(cx: ElabContext, p: A.Param, v: Value, t: VType | undefined, span: Span, owner?: string): Value {
  if (!t || v.t === "poison") return v;
  if (v.t === "none" && p.default?.kind === "none") return v;
  const r = conform(v, t);
  if (r.ok) return r.value;
  return cx.report("E0201", `${owner ? `argument \`${p.name.name}\` of \`${owner}\`` : `parameter \`${p.name.name}\``}: ${r.reason}`, {
    span,
    expected: typeText(t),
    found: describeValue(v),
    secondary: [{ span: p.span, message: "declared here" }],
  });
}

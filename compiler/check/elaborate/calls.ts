// Calls: the `as NAME` of a module, functions, built-in layers and user blocks.
import { spanText, type Span } from "../../diagnostics/source.js";
import type * as A from "../../front/ast.js";
import { BUILTINS, builtinNamed, type Builtin, type LayerCtx } from "../layers/index.js";
import { FUNCTIONS, functionNamed } from "../functions.js";
import { MAX_CALL_DEPTH } from "../limits.js";
import { suggestionHelp } from "../suggest.js";
import { conform, typeText } from "../types.js";
import { describeValue, NONE, POISON, type Value } from "../values.js";
import { bindArgs, conformParam, declaredType } from "./arguments.js";
import type { ElabContext, Frame } from "./context.js";

/** The text of an `as` name; computed parts must be ints or plain names. */
export function moduleName(cx: ElabContext, n: A.ModuleName, frame: Frame): string | undefined {
  const out: string[] = [];
  for (const p of n.parts) {
    if ("text" in p) {
      out.push(p.text);
      continue;
    }
    const v = cx.eval(p.expr, frame);
    if (v.t === "poison") return undefined;
    if (v.t === "int" && v.v >= 0) out.push(String(v.v));
    else if (v.t === "str" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v.v)) out.push(v.v);
    else {
      cx.report("E0201", `a computed name part must be a non-negative int or a plain name, found ${describeValue(v)}`, { span: p.expr.span });
      return undefined;
    }
  }
  return out.join(".");
}

export function evalCall(cx: ElabContext, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string, named: boolean): Value {
  const name = e.callee.name;
  const fn = functionNamed(name);
  const args = e.args.map((a) => a.value);
  if (fn) {
    if (e.name) cx.report("E0201", `\`${name}\` creates no module and cannot be named`, { span: e.name.span });
    const kw = e.args.find((a) => a.name);
    if (kw) {
      cx.notRun({ exprs: args });
      return cx.report("E0103", `\`${name}\` takes no keyword arguments`, { span: kw.span });
    }
    const values = args.map((a) => cx.eval(a, frame));
    if (values.some((a) => a.t === "poison")) return POISON;
    if (values.length < fn.minArgs || values.length > fn.maxArgs) {
      const want = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
      return cx.report("E0106", `\`${name}\` takes ${want} argument${fn.maxArgs === 1 ? "" : "s"}, found ${values.length}`, { span: e.span });
    }
    return fn.apply(values, (message, code = "E0201") => cx.report(code, `${name}: ${message}`, { span: e.span }));
  }
  const builtin = builtinNamed(name);
  if (builtin) return callBuiltin(cx, name, builtin, e, frame, path, named);
  const decl = cx.program.decls.get(name);
  if (decl && decl.kind === "block") return callBlock(cx, decl, e, frame, path);
  cx.notRun({ exprs: args });
  if (decl) return cx.report("E0102", `\`${name}\` is a model; only blocks and layers can be called`, { span: e.callee.span, secondary: [{ span: decl.name.span, message: "model defined here" }] });
  const candidates = [...Object.keys(BUILTINS), ...Object.keys(FUNCTIONS), ...[...cx.program.decls.values()].filter((d) => d.kind === "block").map((d) => d.name.name)];
  return cx.report("E0102", `unknown block or layer \`${name}\``, {
    span: e.callee.span,
    label: "no block or layer has this name",
    help: suggestionHelp(name, candidates) ?? "define it with `block NAME(...) { ... }` or import a file that does",
  });
}

function callBuiltin(cx: ElabContext, name: string, b: Builtin, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string, named: boolean): Value {
  if (e.name && !b.layer) cx.report("E0201", `\`${name}\` creates no parameters and cannot be named`, { span: e.name.span, help: "remove `as ...`" });
  const binding = bindArgs(cx, name, b.params, e, { variadic: b.variadic, extraKwargs: b.extraKwargs });
  if (!binding) return POISON;
  const args: Record<string, Value> = {};
  const spans = new Map<string, Span>();
  let poisoned = false;
  for (const p of b.params) {
    const a = binding.bound.get(p.name);
    if (!a) {
      if (p.default === undefined) {
        cx.report("E0104", `\`${name}\` needs argument \`${p.name}\``, { span: e.span, label: `missing \`${p.name}\``, help: `\`${name}(${b.params.map((q) => (q.default === undefined ? q.name : `${q.name} = ...`)).join(", ")})\`` });
        poisoned = true;
        continue;
      }
      args[p.name] = p.default;
      continue;
    }
    spans.set(p.name, a.value.span);
    const v = cx.eval(a.value, frame);
    if (v.t === "poison") {
      poisoned = true;
      continue;
    }
    const r = p.default?.t === "none" && v.t === "none" ? { ok: true as const, value: v } : conform(v, p.type);
    if (!r.ok) {
      cx.report("E0201", `argument \`${p.name}\` of \`${name}\`: ${r.reason}`, { span: a.value.span, expected: typeText(p.type), found: describeValue(v) });
      poisoned = true;
      continue;
    }
    args[p.name] = r.value;
  }
  const rest = binding.rest.map((a, i) => {
    spans.set(String(i), a.value.span);
    return cx.eval(a.value, frame);
  });
  const kwargs = new Map<string, Value>();
  for (const a of binding.extra) {
    spans.set(a.name!.name, a.value.span);
    kwargs.set(a.name!.name, cx.eval(a.value, frame));
  }
  if (poisoned || rest.some((v) => v.t === "poison") || [...kwargs.values()].some((v) => v.t === "poison")) return POISON;
  const local = e.name ? spanText(e.name.span) : undefined;
  const ctx: LayerCtx = {
    span: e.span,
    path,
    named,
    argSpan: (n) => spans.get(n) ?? e.span,
    error: (code, message, init) => cx.report(code, message, { span: e.span, ...init }),
    node: (op, inputs, attrs, shape, opts) => cx.addNode(op, inputs, attrs, shape, path, e.span, opts, local),
    paramNode: (shape, init) => cx.addParamNode(shape, init, path, e.span, local),
  };
  return b.apply(ctx, args, rest, kwargs);
}

function callBlock(cx: ElabContext, decl: A.BlockDecl, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string): Value {
  if (cx.callStack.length >= MAX_CALL_DEPTH) {
    cx.report("E0604", `blocks nest more than ${MAX_CALL_DEPTH} deep (does \`${decl.name.name}\` call itself?)`, { span: e.span, label: "the limit is reached here" });
  }
  const binding = bindArgs(cx, decl.name.name, decl.params.map((p) => ({ name: p.name.name })), e, {});
  if (!binding) {
    cx.notRun({ decl });
    return POISON;
  }
  // Arguments are the caller's: computed and checked in the caller's frame, and errors about them
  // carry no "in `block`" label. Defaults are the block's: computed in the callee's frame in order,
  // so a default may use earlier parameters (`nf: int = channels(x)`).
  const given = new Map<string, Value>();
  for (const p of decl.params) {
    const a = binding.bound.get(p.name.name);
    if (!a) continue;
    const v = cx.eval(a.value, frame);
    const isNoneDefault = p.default?.kind === "none" && v.t === "none";
    given.set(p.name.name, isNoneDefault ? v : conformParam(cx, p, v, declaredType(cx, p), a.value.span, decl.name.name));
  }
  const missing = decl.params.find((p) => !given.has(p.name.name) && !p.default);
  if (missing) {
    cx.report("E0104", `\`${decl.name.name}\` needs argument \`${missing.name.name}\``, {
      span: e.span,
      label: `missing \`${missing.name.name}\``,
      secondary: [{ span: missing.span, message: "parameter declared here" }],
    });
  }
  if (missing || [...given.values()].some((v) => v.t === "poison")) {
    cx.notRun({ decl });
    return POISON;
  }
  const callee: Frame = { decl, scope: new Map(), path, returned: false, ret: NONE };
  cx.callStack.push({ name: decl.name.name, span: e.callee.span });
  try {
    for (const p of decl.params) {
      const v = given.get(p.name.name);
      if (v !== undefined) {
        callee.scope.set(p.name.name, v);
        continue;
      }
      callee.defaulting = p;
      callee.scope.set(p.name.name, conformParam(cx, p, cx.eval(p.default!, callee), declaredType(cx, p), p.default!.span, decl.name.name));
      callee.defaulting = undefined;
    }
    if ([...callee.scope.values()].some((v) => v.t === "poison")) {
      cx.notRun({ decl });
      return POISON;
    }
    cx.execBlock(decl.body, callee);
  } finally {
    cx.callStack.pop();
  }
  if (!callee.returned) return cx.report("E0601", `block \`${decl.name.name}\` ended without \`return\``, { span: e.span, secondary: [{ span: decl.name.span, message: "block defined here" }] });
  return callee.ret;
}

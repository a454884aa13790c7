// Expressions: literals, names, operators, conditionals and indexing; calls and `seq` are
// handed to calls.ts and seq.ts.
import { spanText } from "../../diagnostics/source.js";
import type * as A from "../../front/ast.js";
import { numberOp, valuesEqual } from "../arith.js";
import { functionNamed } from "../functions.js";
import type { ArithKind } from "../layer-kinds.js";
import { builtinNamed } from "../layers/index.js";
import { suggestionHelp } from "../suggest.js";
import { bool, describeValue, float, int, list, NONE, POISON, str, type Value } from "../values.js";
import { tensorArith } from "./arithmetic.js";
import { evalCall, moduleName } from "./calls.js";
import { join, type ElabContext, type Frame } from "./context.js";
import { evalSeq } from "./seq.js";

export function evalExpr(cx: ElabContext, e: A.Expr, frame: Frame): Value {
  cx.enter(e.span);
  try {
    return evalHere(cx, e, frame);
  } finally {
    cx.leave();
  }
}

function evalHere(cx: ElabContext, e: A.Expr, frame: Frame): Value {
  switch (e.kind) {
    case "num":
      return e.isInt ? int(e.value) : float(e.value);
    case "str":
      return str(e.value);
    case "bool":
      return bool(e.value);
    case "none":
      return NONE;
    case "invalid":
      return cx.report("E0002", e.reason, { span: e.span, help: e.help });
    case "skip":
      return cx.skips.take(e.span);
    case "var":
      return lookup(cx, e, frame);
    case "list": {
      const items = e.items.map((i) => cx.eval(i, frame));
      return items.some((v) => v.t === "poison") ? POISON : list(items, e.span);
    }
    case "unary":
      return evalUnary(cx, e, frame);
    case "binary":
      return evalBinary(cx, e, frame);
    case "ternary": {
      const c = cx.eval(e.cond, frame);
      if (c.t !== "bool") {
        cx.notRun({ exprs: [e.then, e.else] });
        return c.t === "poison" ? POISON : cx.report("E0201", `a condition must be a bool, found ${describeValue(c)}`, { span: e.cond.span });
      }
      return cx.eval(c.v ? e.then : e.else, frame);
    }
    case "index":
      return evalIndex(cx, e, frame);
    case "call":
    case "seq": {
      const name = e.name ? moduleName(cx, e.name, frame) : "";
      if (name === undefined) {
        cx.notRun({ exprs: [e] });
        return POISON;
      }
      const path = name ? join(frame.path, name) : frame.path;
      return e.kind === "seq" ? evalSeq(cx, e, frame, path) : evalCall(cx, e, frame, path, e.name !== undefined);
    }
  }
}

function lookup(cx: ElabContext, e: Extract<A.Expr, { kind: "var" }>, frame: Frame): Value {
  const v = frame.scope.get(e.name);
  if (v) return v;
  if (builtinNamed(e.name) || functionNamed(e.name) || cx.program.decls.has(e.name)) {
    return cx.report("E0201", `\`${e.name}\` is a layer or block, not a value`, { span: e.span, help: `call it: \`${e.name}(...)\`` });
  }
  // In a default, the parameter itself and those after it are not set yet.
  const param = frame.defaulting && frame.decl.params.find((p) => p.name.name === e.name);
  if (param && frame.defaulting) {
    const own = param === frame.defaulting;
    return cx.report("E0101", own ? `the default of \`${e.name}\` uses \`${e.name}\` itself` : `\`${e.name}\` is a parameter declared after \`${frame.defaulting.name.name}\`; a default can only use earlier parameters`, {
      span: e.span,
      label: own ? "not set yet" : "declared later",
      secondary: own ? [] : [{ span: param.name.span, message: "declared here" }],
      help: own ? "give a value that does not depend on the parameter" : `move \`${e.name}\` before \`${frame.defaulting.name.name}\` in the parameter list`,
    });
  }
  // One message per unknown name and block: a misspelt or missing name usually has several uses.
  return cx.report(
    "E0101",
    `unknown name \`${e.name}\``,
    { span: e.span, label: "not defined here", help: suggestionHelp(e.name, frame.scope.keys()) },
    frame.decl.name.span,
  );
}

function evalUnary(cx: ElabContext, e: Extract<A.Expr, { kind: "unary" }>, frame: Frame): Value {
  const v = cx.eval(e.operand, frame);
  if (v.t === "poison") return POISON;
  if (e.op === "not") return v.t === "bool" ? bool(!v.v) : cx.report("E0201", `\`not\` takes a bool, found ${describeValue(v)}`, { span: e.operand.span });
  if (v.t === "int") return int(-v.v);
  if (v.t === "float") return float(-v.v);
  if (v.t === "tensor") return tensorArith(cx, "mul", v, float(-1), e.span, frame.path);
  return cx.report("E0201", `cannot negate ${describeValue(v)}`, { span: e.span });
}

/** A chain of left-associative operators (`a + b + c`) is a left-deep tree: it is walked down
 *  its left spine with a loop, so a long chain does not recurse once per operator. */
function evalBinary(cx: ElabContext, e: Extract<A.Expr, { kind: "binary" }>, frame: Frame): Value {
  const spine: Extract<A.Expr, { kind: "binary" }>[] = [];
  let x: A.Expr = e;
  for (; x.kind === "binary"; x = x.left) spine.push(x);
  let acc = cx.eval(x, frame);
  for (let i = spine.length - 1; i >= 0; i--) acc = applyBinary(cx, spine[i], acc, frame);
  return acc;
}

function applyBinary(cx: ElabContext, e: Extract<A.Expr, { kind: "binary" }>, l: Value, frame: Frame): Value {
  if (e.op === "and" || e.op === "or") {
    if (l.t !== "bool") {
      cx.notRun({ exprs: [e.right] });
      return l.t === "poison" ? POISON : cx.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(l)}`, { span: e.left.span });
    }
    if (e.op === "and" ? !l.v : l.v) return l;
    const r = cx.eval(e.right, frame);
    if (r.t === "poison" || r.t === "bool") return r;
    return cx.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(r)}`, { span: e.right.span });
  }
  const r = cx.eval(e.right, frame);
  if (l.t === "poison" || r.t === "poison") return POISON;
  if (e.op === "==" || e.op === "!=") {
    const eq = valuesEqual(l, r);
    if (eq === undefined) return cx.report("E0201", `cannot compare ${describeValue(l)} with ${describeValue(r)}`, { span: e.span });
    return bool(e.op === "==" ? eq : !eq);
  }
  if (l.t === "tensor" || r.t === "tensor") {
    const op = ({ "+": "add", "-": "sub", "*": "mul", "/": "div" } as Partial<Record<string, ArithKind>>)[e.op];
    if (!op) return cx.report("E0201", `\`${e.op}\` is not defined for tensors`, { span: e.opSpan, help: "tensors take `+`, `-`, `*` and `/`" });
    return tensorArith(cx, op, l, r, e.span, frame.path);
  }
  if (e.op === "+" && l.t === "list" && r.t === "list") return list([...l.items, ...r.items], e.span);
  if (e.op === "+" && l.t === "str" && r.t === "str") return str(l.v + r.v);
  if ((l.t !== "int" && l.t !== "float") || (r.t !== "int" && r.t !== "float")) {
    return cx.report("E0201", `\`${e.op}\` is not defined for ${describeValue(l)} and ${describeValue(r)}`, { span: e.span });
  }
  const res = numberOp(e.op, l, r);
  if ("value" in res) return res.value;
  if (res.error !== "int overflow") return cx.report("E0204", res.error, { span: e.span });
  return cx.report("E0204", `int overflow: \`${spanText(e.span)}\` is too large to be exact`, {
    span: e.span,
    notes: [`ints are exact up to 2^53 - 1 = ${Number.MAX_SAFE_INTEGER}`],
  });
}

function evalIndex(cx: ElabContext, e: Extract<A.Expr, { kind: "index" }>, frame: Frame): Value {
  const t = cx.eval(e.target, frame);
  const i = cx.eval(e.index, frame);
  if (t.t === "poison" || i.t === "poison") return POISON;
  if (t.t !== "list") return cx.report("E0201", `only lists can be indexed, found ${describeValue(t)}`, { span: e.target.span });
  if (i.t !== "int") return cx.report("E0201", `a list index must be an int, found ${describeValue(i)}`, { span: e.index.span });
  const n = t.items.length;
  const k = i.v < 0 ? n + i.v : i.v;
  if (k >= 0 && k < n) return t.items[k];
  // Reported once per list: every index into an empty `--set nfs=[]` fails the same way.
  if (n === 0) {
    return cx.report(
      "E0203",
      `index ${i.v} is out of range: the list is empty`,
      { span: e.index.span, secondary: t.origin ? [{ span: t.origin, message: "the empty list comes from here" }] : [] },
      t.origin,
    );
  }
  return cx.report("E0203", `index ${i.v} is out of range for a list of ${n}`, { span: e.index.span, expected: `-${n} .. ${n - 1}` }, t.origin);
}

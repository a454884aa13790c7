// `x |> seq { ... }`: each item is a call (or a nested seq) applied to the previous result,
// named by its index unless it says `as NAME`; `if` items run their items conditionally.
import type * as A from "../../front/ast.js";
import { describeValue, POISON, type Value } from "../values.js";
import { evalCall, moduleName } from "./calls.js";
import { join, type ElabContext, type Frame } from "./context.js";

export function evalSeq(cx: ElabContext, e: Extract<A.Expr, { kind: "seq" }>, frame: Frame, path: string): Value {
  if (!e.input) {
    cx.notRun({ items: e.items });
    return cx.report("E0002", "a `seq` needs an input", { span: e.span, help: "pipe into it: `x |> seq { ... }`" });
  }
  let x = cx.eval(e.input, frame);
  let index = 0;
  const run = (items: A.SeqItem[]): void => {
    for (const [k, it] of items.entries()) {
      if (x.t === "poison") return cx.notRun({ items: items.slice(k) });
      if (it.kind === "invalid") {
        x = cx.report("E0002", it.expr.reason, { span: it.expr.span });
        continue;
      }
      if (it.kind === "if") {
        const c = cx.eval(it.cond, frame);
        if (c.t !== "bool") {
          x = c.t === "poison" ? POISON : cx.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: it.cond.span });
          continue;
        }
        if (c.v) run(it.items);
        continue;
      }
      const own = it.call.name ? moduleName(cx, it.call.name, frame) : String(index);
      if (own === undefined) {
        x = POISON;
        continue;
      }
      const itemPath = join(path, own);
      index++;
      const input: A.Expr = { kind: "var", name: "\u0000seq", span: it.call.span };
      frame.scope.set("\u0000seq", x);
      if (it.call.kind === "seq") x = evalSeq(cx, { ...it.call, input }, frame, itemPath);
      else x = evalCall(cx, { ...it.call, args: [{ value: input, span: it.call.span }, ...it.call.args] }, frame, itemPath, true);
      frame.scope.delete("\u0000seq");
    }
  };
  run(e.items);
  return x;
}

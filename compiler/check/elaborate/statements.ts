// Statements: blocks, `input` declarations, assignments and unpacking, `save`, `for`, `if`,
// `require` and `return`.
import type { Label } from "../../diagnostics/diagnostic.js";
import type * as A from "../../front/ast.js";
import { namesIn } from "../ast-walk.js";
import type { ModelInput } from "../model-graph.js";
import { describeValue, int, POISON } from "../values.js";
import { join, type ElabContext, type Frame } from "./context.js";

export function execStmts(cx: ElabContext, stmts: A.Stmt[], frame: Frame): void {
  if (stmts.length === 0) return;
  cx.enter(stmts[0].span);
  try {
    for (const s of stmts) {
      if (frame.returned) return;
      cx.tick(s.span);
      exec(cx, s, frame);
    }
  } finally {
    cx.leave();
  }
}

function exec(cx: ElabContext, s: A.Stmt, frame: Frame): void {
  switch (s.kind) {
    case "input":
      return execInput(cx, s, frame);
    case "return":
      frame.ret = cx.eval(s.value, frame);
      frame.returned = true;
      return;
    case "save": {
      let v = cx.eval(s.value, frame);
      if (v.t !== "tensor" && v.t !== "poison") v = cx.report("E0201", `only tensors can be saved for a skip, found ${describeValue(v)}`, { span: s.value.span });
      // A poisoned save still counts, so that the skip that takes it does not fail too.
      cx.skips.save(v, s.span, frame.path);
      return;
    }
    case "for":
      return execFor(cx, s, frame);
    case "if": {
      const c = cx.eval(s.cond, frame);
      if (c.t !== "bool") {
        if (c.t !== "poison") cx.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: s.cond.span });
        cx.notRunStmts([...s.then, ...(s.else ?? [])], frame);
        return;
      }
      if (c.v) cx.execBlock(s.then, frame);
      else if (s.else) cx.execBlock(s.else, frame);
      return;
    }
    case "require": {
      const c = cx.eval(s.cond, frame);
      if (c.t === "poison") return;
      if (c.t !== "bool") {
        cx.report("E0201", `a \`require\` condition must be a bool, found ${describeValue(c)}`, { span: s.cond.span });
        return;
      }
      if (!c.v) {
        // Checking stops here (ENDS_CHECKING): what follows would only repeat the failure.
        cx.report("E0602", s.message, { span: s.cond.span, label: "this does not hold", notes: scopeNotes(s.cond, frame), secondary: overrideLabels(cx, s.cond, frame) });
      }
      return;
    }
    case "assign": {
      const v = cx.eval(s.value, frame);
      if (s.targets.length === 1) {
        frame.scope.set(s.targets[0].name, v);
        return;
      }
      if (v.t === "poison") {
        for (const t of s.targets) frame.scope.set(t.name, POISON);
        return;
      }
      if (v.t !== "list" || v.items.length !== s.targets.length) {
        cx.report("E0201", `cannot unpack ${describeValue(v)} into ${s.targets.length} names`, { span: s.value.span, expected: `a list of ${s.targets.length} values` });
        for (const t of s.targets) frame.scope.set(t.name, POISON);
        return;
      }
      s.targets.forEach((t, i) => frame.scope.set(t.name, v.items[i]));
      return;
    }
  }
}

/** Values of the names a failed `require` mentions, so the message says why it failed. */
function scopeNotes(e: A.Expr, frame: Frame): string[] {
  return namesIn(e).flatMap((n) => {
    const v = frame.scope.get(n);
    return v && v.t !== "poison" ? [`\`${n}\` is ${describeValue(v)}`] : [];
  });
}

/** Where the model parameters a failed model `require` mentions were set (`--set`, a preset). */
function overrideLabels(cx: ElabContext, e: A.Expr, frame: Frame): Label[] {
  if (frame.decl !== cx.model) return [];
  return namesIn(e).flatMap((n) => {
    const o = cx.overridden.get(n);
    return o ? [{ span: o.span, message: `\`${n}\` is set here` }] : [];
  });
}

function execInput(cx: ElabContext, s: Extract<A.Stmt, { kind: "input" }>, frame: Frame): void {
  if (frame.decl.kind !== "model") {
    cx.report("E0603", "inputs are declared in a model, not in a block", { span: s.span, help: "pass the tensor to the block as an argument" });
    return;
  }
  const name = s.name.name;
  if (cx.inputs.some((i) => i.name === name)) {
    cx.report("E0105", `input \`${name}\` is declared twice`, { span: s.name.span, secondary: [{ span: cx.inputs.find((i) => i.name === name)!.span, message: "first declared here" }] });
    return;
  }
  const dims = s.dims.map((d) => cx.eval(d, frame));
  if (dims.some((d) => d.t === "poison")) return frame.scope.set(name, POISON), undefined;
  const ints = dims.map((d) => (d.t === "int" ? d.v : NaN));
  const bad = (want: string) => {
    cx.report("E0603", `input \`${name}\`: ${want}`, { span: s.span, help: "inputs are `image[C, H, W]`, `timestep` or `label[CLASSES]`" });
    frame.scope.set(name, POISON);
  };
  let shape: number[];
  let dtype: "f32" | "i32" = "f32";
  let classes: number | undefined;
  switch (s.type.name) {
    case "image":
      if (ints.length !== 3 || ints.some((d) => !(d >= 1))) return bad(`an image has three positive int sizes [C, H, W], found [${dims.map(describeValue).join(", ")}]`);
      shape = ints;
      break;
    case "timestep":
      if (ints.length) return bad("a timestep takes no sizes");
      shape = [];
      break;
    case "label":
      if (ints.length !== 1 || !(ints[0] >= 1)) return bad("a label needs its number of classes: `label[10]`");
      shape = [];
      dtype = "i32";
      classes = ints[0];
      break;
    default:
      return bad(`unknown input type \`${s.type.name}\``);
  }
  const node = cx.addNode("input", [], { name, kind: s.type.name }, shape, "", s.span, { dtype, flops: 0 });
  cx.inputs.push({ name, kind: s.type.name as ModelInput["kind"], shape, classes, node: node.node, span: s.span });
  frame.scope.set(name, node);
}

function execFor(cx: ElabContext, s: Extract<A.Stmt, { kind: "for" }>, frame: Frame): void {
  const it = cx.eval(s.iterable, frame);
  if (it.t !== "list" || s.vars.length > 2) {
    if (it.t !== "list" && it.t !== "poison") cx.report("E0201", `\`for\` iterates over a list, found ${describeValue(it)}`, { span: s.iterable.span, help: "use `range(n)` to count" });
    if (s.vars.length > 2) cx.report("E0201", "`for` takes one name (the item) or two (the index and the item)", { span: s.vars[2].span });
    cx.notRunStmts(s.body, frame);
    return;
  }
  const outer = frame.path;
  const loop = { stmt: s, index: 0 };
  cx.loops.push(loop);
  try {
    for (const [i, item] of it.items.entries()) {
      cx.tick(s.span);
      loop.index = i;
      if (s.vars.length === 2) {
        frame.scope.set(s.vars[0].name, int(i));
        frame.scope.set(s.vars[1].name, item);
      } else frame.scope.set(s.vars[0].name, item);
      frame.path = s.label ? join(join(outer, s.label.name), String(i)) : outer;
      cx.execBlock(s.body, frame);
      if (frame.returned) return;
    }
  } finally {
    cx.loops.pop();
    frame.path = outer;
  }
}

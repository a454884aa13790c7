// The checker: runs a model's spec with concrete parameters (defaults plus overrides), the way a
// hardware generator elaborates its loops. Every channel count, spatial size and parameter name
// follows from the run; every error is reported with the span of the text that caused it. Values
// whose error was already reported are `poison`, so one mistake yields one message.
import type { Diagnostic, DiagnosticInit, Label } from "../diagnostics/diagnostic.js";
import { diag } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { Span } from "../diagnostics/source.js";
import type * as A from "../syntax/ast.js";
import { BUILTINS, FUNCTIONS, type Builtin, type LayerCtx, type LocalParam, type NodeOptions } from "./builtins.js";
import type { AttrValue, LayerNode, ModelGraph, ModelInput, ParamInit, ParamSpec } from "./model-graph.js";
import { suggestionHelp } from "./suggest.js";
import { conform, isKnownTypeName, T, typeFromAst, typeOfValue, typeText, type VType } from "./types.js";
import { bool, describeValue, float, int, list, NONE, POISON, shapeText, str, valueToJson, type TensorValue, type Value } from "./values.js";

export interface Override {
  key: string;
  value: Value;
  /** Span of the whole `key=value` text (in a synthetic `--set` source). */
  span: Span;
  keySpan: Span;
}

export interface Program {
  /** Every block and model in scope: the root file's definitions shadow imported ones. */
  decls: Map<string, A.BlockDecl>;
}

interface Frame {
  decl: A.BlockDecl;
  scope: Map<string, Value>;
  path: string;
  returned: boolean;
  ret: Value;
}

interface SavedSkip {
  value: TensorValue;
  span: Span;
  path: string;
}

const MAX_DEPTH = 64;
const MAX_STEPS = 2_000_000;

const join = (a: string, b: string) => (a ? `${a}.${b}` : b);

export class Elaborator {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly nodes: LayerNode[] = [];
  private readonly params: ParamSpec[] = [];
  private readonly paramSites = new Map<string, Span>();
  private readonly inputs: ModelInput[] = [];
  private readonly skips: SavedSkip[] = [];
  private lastSkipUse: Span | undefined;
  private readonly callStack: { name: string; span: Span }[] = [];
  private steps = 0;

  constructor(private readonly program: Program) {}

  // ---- diagnostics ----

  private report(code: DiagnosticCode, message: string, init: DiagnosticInit = {}): Value {
    const key = `${code}:${init.span?.file.path}:${init.span?.start}:${message}`;
    if (this.seen.has(key)) return POISON;
    this.seen.add(key);
    const secondary: Label[] = [...(init.secondary ?? [])];
    for (const frame of [...this.callStack].reverse().slice(0, 3)) secondary.push({ span: frame.span, message: `in \`${frame.name}\`, called here` });
    this.diagnostics.push(diag(code, message, { ...init, secondary }));
    return POISON;
  }

  private tick(span: Span): boolean {
    if (++this.steps <= MAX_STEPS) return true;
    this.report("E0604", "the spec does too much work to elaborate (over 2,000,000 steps)", { span, help: "check loop bounds" });
    return false;
  }

  // ---- the model ----

  run(model: A.BlockDecl, overrides: Override[], name = model.name.name): ModelGraph | undefined {
    const frame: Frame = { decl: model, scope: new Map(), path: "", returned: false, ret: NONE };
    const config: Record<string, unknown> = {};
    const byKey = new Map(overrides.map((o) => [o.key, o]));
    for (const o of overrides) {
      if (!model.params.some((p) => p.name.name === o.key)) {
        this.report("E0103", `model \`${model.name.name}\` has no parameter \`${o.key}\``, {
          span: o.keySpan,
          label: "unknown key",
          help: suggestionHelp(o.key, model.params.map((p) => p.name.name), "a parameter") ?? `its parameters are ${model.params.map((p) => `\`${p.name.name}\``).join(", ")}`,
          secondary: [{ span: model.name.span, message: "model defined here" }],
        });
      }
    }
    for (const p of model.params) {
      const o = byKey.get(p.name.name);
      const declared = this.declaredType(p);
      let value: Value;
      if (o) {
        const t = declared ?? (p.default ? typeOfValue(this.eval(p.default, frame)) : T.any);
        const r = conform(o.value, t);
        if (!r.ok) {
          this.report("E0202", `\`--set ${o.key}\`: ${r.reason}`, { span: o.span, expected: typeText(t), found: describeValue(o.value), secondary: [{ span: p.span, message: "parameter declared here" }] });
          value = POISON;
        } else value = r.value;
      } else if (p.default) {
        value = this.conformParam(p, this.eval(p.default, frame), declared, p.default.span);
      } else {
        this.report("E0104", `model parameter \`${p.name.name}\` has no default and no value was given`, { span: p.span, help: `pass one with \`--set ${p.name.name}=VALUE\`` });
        value = POISON;
      }
      frame.scope.set(p.name.name, value);
      config[p.name.name] = valueToJson(value);
    }
    this.execBlock(model.body, frame);
    if (!frame.returned) {
      this.report("E0601", `model \`${model.name.name}\` does not return its output`, { span: model.name.span, help: "end the model with `return EXPR`" });
      return undefined;
    }
    const out = frame.ret;
    this.checkSkipsBalanced(model);
    if (out.t === "tensor" && out.shape.length !== 3) {
      this.report("E0306", `a model returns an image [C, H, W], found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    } else if (out.t !== "tensor" && out.t !== "poison") {
      this.report("E0201", `a model returns an image, found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    }
    if (this.diagnostics.some((d) => d.severity === "error") || out.t !== "tensor") return undefined;
    return { name, config, inputs: this.inputs, nodes: this.nodes, output: out.node, parameters: this.params };
  }

  private returnSpan(model: A.BlockDecl): Span | undefined {
    return [...model.body].reverse().find((s) => s.kind === "return")?.span;
  }

  private checkSkipsBalanced(model: A.BlockDecl): void {
    if (this.skips.length === 0) return;
    const bySite = new Map<number, SavedSkip[]>();
    for (const s of this.skips) bySite.set(s.span.start, [...(bySite.get(s.span.start) ?? []), s]);
    for (const group of bySite.values()) {
      const first = group[0];
      const n = group.length;
      const where = group.map((g) => g.path || "the model's top level").slice(0, 4).join(", ");
      const use = this.lastSkipUse;
      this.report("E0402", `${n === 1 ? "an activation saved here is" : `${n} activations saved here are`} never used by a \`skip\``, {
        span: first.span,
        label: `saved ${shapeText(first.value.shape)} in ${where}${n > 4 ? ", ..." : ""}`,
        secondary: use ? [{ span: use, message: "the last `skip` is here; saves and skips must balance" }] : [{ span: this.returnSpan(model) ?? model.name.span, message: "the model ends here" }],
        notes: [`${this.skips.length} saved activation${this.skips.length === 1 ? "" : "s"} in all remain unused at the end of \`${model.name.name}\``],
        help: "add a `skip` for each save (for instance one more resblock per up level), or remove the `save`",
      });
    }
  }

  // ---- statements ----

  private execBlock(stmts: A.Stmt[], frame: Frame): void {
    for (const s of stmts) {
      if (frame.returned) return;
      if (!this.tick(s.span)) return;
      this.exec(s, frame);
    }
  }

  private exec(s: A.Stmt, frame: Frame): void {
    switch (s.kind) {
      case "input":
        return this.execInput(s, frame);
      case "return":
        frame.ret = this.eval(s.value, frame);
        frame.returned = true;
        return;
      case "save": {
        const v = this.eval(s.value, frame);
        if (v.t === "poison") return;
        if (v.t !== "tensor") {
          this.report("E0201", `only tensors can be saved for a skip, found ${describeValue(v)}`, { span: s.value.span });
          return;
        }
        this.skips.push({ value: v, span: s.span, path: frame.path });
        return;
      }
      case "for":
        return this.execFor(s, frame);
      case "if": {
        const c = this.eval(s.cond, frame);
        if (c.t === "poison") return;
        if (c.t !== "bool") {
          this.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: s.cond.span });
          return;
        }
        if (c.v) this.execBlock(s.then, frame);
        else if (s.else) this.execBlock(s.else, frame);
        return;
      }
      case "require": {
        const c = this.eval(s.cond, frame);
        if (c.t === "poison") return;
        if (c.t !== "bool") {
          this.report("E0201", `a \`require\` condition must be a bool, found ${describeValue(c)}`, { span: s.cond.span });
          return;
        }
        if (!c.v) this.report("E0602", s.message, { span: s.cond.span, label: "this does not hold", notes: this.scopeNotes(s.cond, frame) });
        return;
      }
      case "assign": {
        const v = this.eval(s.value, frame);
        if (s.targets.length === 1) {
          frame.scope.set(s.targets[0].name, v);
          return;
        }
        if (v.t === "poison") {
          for (const t of s.targets) frame.scope.set(t.name, POISON);
          return;
        }
        if (v.t !== "list" || v.items.length !== s.targets.length) {
          this.report("E0201", `cannot unpack ${describeValue(v)} into ${s.targets.length} names`, { span: s.value.span, expected: `a list of ${s.targets.length} values` });
          for (const t of s.targets) frame.scope.set(t.name, POISON);
          return;
        }
        s.targets.forEach((t, i) => frame.scope.set(t.name, v.items[i]));
        return;
      }
    }
  }

  /** Values of the names a failed `require` mentions, so the message says why it failed. */
  private scopeNotes(e: A.Expr, frame: Frame): string[] {
    const names = new Set<string>();
    const walk = (x: A.Expr): void => {
      if (x.kind === "var") names.add(x.name);
      else if (x.kind === "binary") (walk(x.left), walk(x.right));
      else if (x.kind === "unary") walk(x.operand);
      else if (x.kind === "index") (walk(x.target), walk(x.index));
      else if (x.kind === "call") x.args.forEach((a) => walk(a.value));
      else if (x.kind === "ternary") (walk(x.cond), walk(x.then), walk(x.else));
    };
    walk(e);
    return [...names].flatMap((n) => {
      const v = frame.scope.get(n);
      return v && v.t !== "poison" ? [`\`${n}\` is ${describeValue(v)}`] : [];
    });
  }

  private execInput(s: Extract<A.Stmt, { kind: "input" }>, frame: Frame): void {
    if (frame.decl.kind !== "model") {
      this.report("E0603", "inputs are declared in a model, not in a block", { span: s.span, help: "pass the tensor to the block as an argument" });
      return;
    }
    const name = s.name.name;
    if (this.inputs.some((i) => i.name === name)) {
      this.report("E0105", `input \`${name}\` is declared twice`, { span: s.name.span, secondary: [{ span: this.inputs.find((i) => i.name === name)!.span, message: "first declared here" }] });
      return;
    }
    const dims = s.dims.map((d) => this.eval(d, frame));
    if (dims.some((d) => d.t === "poison")) return frame.scope.set(name, POISON), undefined;
    const ints = dims.map((d) => (d.t === "int" ? d.v : NaN));
    const bad = (want: string) => {
      this.report("E0603", `input \`${name}\`: ${want}`, { span: s.span, help: "inputs are `image[C, H, W]`, `timestep` or `label[CLASSES]`" });
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
    const node = this.addNode("input", [], { name, kind: s.type.name }, shape, "", s.span, { dtype, flops: 0 });
    this.inputs.push({ name, kind: s.type.name as ModelInput["kind"], shape, classes, node: node.node, span: s.span });
    frame.scope.set(name, node);
  }

  private execFor(s: Extract<A.Stmt, { kind: "for" }>, frame: Frame): void {
    const it = this.eval(s.iterable, frame);
    if (it.t === "poison") return;
    if (it.t !== "list") {
      this.report("E0201", `\`for\` iterates over a list, found ${describeValue(it)}`, { span: s.iterable.span, help: "use `range(n)` to count" });
      return;
    }
    if (s.vars.length > 2) {
      this.report("E0201", "`for` takes one name (the item) or two (the index and the item)", { span: s.vars[2].span });
      return;
    }
    const outer = frame.path;
    for (const [i, item] of it.items.entries()) {
      if (!this.tick(s.span)) return;
      if (s.vars.length === 2) {
        frame.scope.set(s.vars[0].name, int(i));
        frame.scope.set(s.vars[1].name, item);
      } else frame.scope.set(s.vars[0].name, item);
      frame.path = s.label ? join(join(outer, s.label.name), String(i)) : outer;
      this.execBlock(s.body, frame);
      frame.path = outer;
      if (frame.returned) return;
    }
  }

  // ---- expressions ----

  eval(e: A.Expr, frame: Frame): Value {
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
        return this.report("E0002", e.reason, { span: e.span, help: e.help });
      case "skip":
        return this.popSkip(e.span);
      case "var":
        return this.lookup(e, frame);
      case "list":
        return list(e.items.map((i) => this.eval(i, frame)));
      case "unary":
        return this.evalUnary(e, frame);
      case "binary":
        return this.evalBinary(e, frame);
      case "ternary": {
        const c = this.eval(e.cond, frame);
        if (c.t === "poison") return POISON;
        if (c.t !== "bool") return this.report("E0201", `a condition must be a bool, found ${describeValue(c)}`, { span: e.cond.span });
        return this.eval(c.v ? e.then : e.else, frame);
      }
      case "index":
        return this.evalIndex(e, frame);
      case "call":
      case "seq": {
        const name = e.name ? this.moduleName(e.name, frame) : "";
        if (name === undefined) return POISON;
        const path = name ? join(frame.path, name) : frame.path;
        return e.kind === "seq" ? this.evalSeq(e, frame, path) : this.evalCall(e, frame, path, e.name !== undefined);
      }
    }
  }

  /** The text of an `as` name; computed parts must be ints or plain names. */
  private moduleName(n: A.ModuleName, frame: Frame): string | undefined {
    const out: string[] = [];
    for (const p of n.parts) {
      if ("text" in p) {
        out.push(p.text);
        continue;
      }
      const v = this.eval(p.expr, frame);
      if (v.t === "poison") return undefined;
      if (v.t === "int" && v.v >= 0) out.push(String(v.v));
      else if (v.t === "str" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v.v)) out.push(v.v);
      else {
        this.report("E0201", `a computed name part must be a non-negative int or a plain name, found ${describeValue(v)}`, { span: p.expr.span });
        return undefined;
      }
    }
    return out.join(".");
  }

  private popSkip(span: Span): Value {
    const s = this.skips.pop();
    if (!s) {
      return this.report("E0401", "`skip` takes a saved activation, but none is left", {
        span,
        label: "nothing to take here",
        secondary: this.lastSkipUse ? [{ span: this.lastSkipUse, message: "the last saved activation was taken here" }] : [],
        help: "every `skip` needs a matching `save` earlier in the model: save one more activation on the way down, or use one less skip on the way up",
      });
    }
    this.lastSkipUse = span;
    return { ...s.value, savedAt: s.span };
  }

  private lookup(e: Extract<A.Expr, { kind: "var" }>, frame: Frame): Value {
    const v = frame.scope.get(e.name);
    if (v) return v;
    if (BUILTINS[e.name] || FUNCTIONS[e.name] || this.program.decls.has(e.name)) {
      return this.report("E0201", `\`${e.name}\` is a layer or block, not a value`, { span: e.span, help: `call it: \`${e.name}(...)\`` });
    }
    return this.report("E0101", `unknown name \`${e.name}\``, {
      span: e.span,
      label: "not defined here",
      help: suggestionHelp(e.name, frame.scope.keys(), "a name in scope"),
    });
  }

  private evalUnary(e: Extract<A.Expr, { kind: "unary" }>, frame: Frame): Value {
    const v = this.eval(e.operand, frame);
    if (v.t === "poison") return POISON;
    if (e.op === "not") return v.t === "bool" ? bool(!v.v) : this.report("E0201", `\`not\` takes a bool, found ${describeValue(v)}`, { span: e.operand.span });
    if (v.t === "int") return int(-v.v);
    if (v.t === "float") return float(-v.v);
    if (v.t === "tensor") return this.tensorArith("mul", v, float(-1), e.span, frame.path);
    return this.report("E0201", `cannot negate ${describeValue(v)}`, { span: e.span });
  }

  private evalBinary(e: Extract<A.Expr, { kind: "binary" }>, frame: Frame): Value {
    if (e.op === "and" || e.op === "or") {
      const l = this.eval(e.left, frame);
      if (l.t === "poison") return POISON;
      if (l.t !== "bool") return this.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(l)}`, { span: e.left.span });
      if (e.op === "and" ? !l.v : l.v) return l;
      const r = this.eval(e.right, frame);
      if (r.t === "poison" || r.t === "bool") return r;
      return this.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(r)}`, { span: e.right.span });
    }
    const l = this.eval(e.left, frame);
    const r = this.eval(e.right, frame);
    if (l.t === "poison" || r.t === "poison") return POISON;
    if (e.op === "==" || e.op === "!=") {
      const eq = valuesEqual(l, r);
      if (eq === undefined) return this.report("E0201", `cannot compare ${describeValue(l)} with ${describeValue(r)}`, { span: e.span });
      return bool(e.op === "==" ? eq : !eq);
    }
    if (l.t === "tensor" || r.t === "tensor") {
      const op = ({ "+": "add", "-": "sub", "*": "mul", "/": "div" } as Record<string, string>)[e.op];
      if (!op) return this.report("E0201", `\`${e.op}\` is not defined for tensors`, { span: e.opSpan, help: "tensors take `+`, `-`, `*` and `/`" });
      return this.tensorArith(op, l, r, e.span, frame.path);
    }
    if (e.op === "+" && l.t === "list" && r.t === "list") return list([...l.items, ...r.items]);
    if (e.op === "+" && l.t === "str" && r.t === "str") return str(l.v + r.v);
    if ((l.t !== "int" && l.t !== "float") || (r.t !== "int" && r.t !== "float")) {
      return this.report("E0201", `\`${e.op}\` is not defined for ${describeValue(l)} and ${describeValue(r)}`, { span: e.span });
    }
    const bothInt = l.t === "int" && r.t === "int";
    const a = l.v;
    const b = r.v;
    const num = (x: number) => (bothInt && Number.isInteger(x) ? int(x) : float(x));
    switch (e.op) {
      case "+":
        return num(a + b);
      case "-":
        return num(a - b);
      case "*":
        return num(a * b);
      case "/":
        if (b === 0) return this.report("E0204", "division by zero", { span: e.span });
        return float(a / b);
      case "//":
        if (b === 0) return this.report("E0204", "division by zero", { span: e.span });
        return num(Math.floor(a / b));
      case "%":
        if (b === 0) return this.report("E0204", "modulo by zero", { span: e.span });
        return num(((a % b) + b) % b);
      case "**":
        return bothInt && b >= 0 ? int(a ** b) : float(a ** b);
      case "<":
        return bool(a < b);
      case "<=":
        return bool(a <= b);
      case ">":
        return bool(a > b);
      case ">=":
        return bool(a >= b);
    }
    return POISON;
  }

  /** Elementwise arithmetic with the language's broadcasting: equal shapes, a scalar (constant or
   *  per-sample), or a vector [C] over the channels of an image / the features of tokens. */
  private tensorArith(op: string, l: Value, r: Value, span: Span, path: string): Value {
    const asTensor = (v: Value): TensorValue | undefined => {
      if (v.t === "tensor") return v;
      if (v.t === "int" || v.t === "float") return this.addNode("const", [], { value: v.v }, [], "", span, { flops: 0 });
      return undefined;
    };
    const a = asTensor(l);
    const b = asTensor(r);
    if (!a || !b) return this.report("E0201", `cannot combine ${describeValue(l)} and ${describeValue(r)}`, { span });
    const broadcast = (x: number[], y: number[]): number[] | undefined => {
      if (x.length === y.length && x.every((d, i) => d === y[i])) return x;
      if (y.length === 0) return x;
      if (y.length === 1 && x.length >= 2 && (x.length === 3 ? x[0] : x[x.length - 1]) === y[0]) return x;
      return undefined;
    };
    const shape = broadcast(a.shape, b.shape) ?? broadcast(b.shape, a.shape);
    if (!shape) {
      return this.report("E0301", `cannot ${({ add: "add", sub: "subtract", mul: "multiply", div: "divide" } as Record<string, string>)[op]} ${describeValue(a)} and ${describeValue(b)}`, {
        span,
        label: `shapes ${shapeText(a.shape)} and ${shapeText(b.shape)}`,
        help: "shapes must be equal, or one side a scalar, or a vector [C] matching the channels",
      });
    }
    return this.addNode(op, [a, b], {}, shape, path, span, { flops: shape.reduce((p, d) => p * d, 1) });
  }

  private evalIndex(e: Extract<A.Expr, { kind: "index" }>, frame: Frame): Value {
    const t = this.eval(e.target, frame);
    const i = this.eval(e.index, frame);
    if (t.t === "poison" || i.t === "poison") return POISON;
    if (t.t !== "list") return this.report("E0201", `only lists can be indexed, found ${describeValue(t)}`, { span: e.target.span });
    if (i.t !== "int") return this.report("E0201", `a list index must be an int, found ${describeValue(i)}`, { span: e.index.span });
    const k = i.v < 0 ? t.items.length + i.v : i.v;
    if (k < 0 || k >= t.items.length) {
      return this.report("E0203", `index ${i.v} is out of range for a list of ${t.items.length}`, { span: e.index.span, expected: `-${t.items.length} .. ${t.items.length - 1}` });
    }
    return t.items[k];
  }

  // ---- calls ----

  private evalCall(e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string, named: boolean): Value {
    const name = e.callee.name;
    const fn = FUNCTIONS[name];
    if (fn) {
      if (e.name) this.report("E0201", `\`${name}\` creates no module and cannot be named`, { span: e.name.span });
      const kw = e.args.find((a) => a.name);
      if (kw) return this.report("E0103", `\`${name}\` takes no keyword arguments`, { span: kw.span });
      const args = e.args.map((a) => this.eval(a.value, frame));
      if (args.some((a) => a.t === "poison")) return POISON;
      if (args.length < fn.minArgs || args.length > fn.maxArgs) {
        const want = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
        return this.report("E0106", `\`${name}\` takes ${want} argument${fn.maxArgs === 1 ? "" : "s"}, found ${args.length}`, { span: e.span });
      }
      return fn.apply(args, (message) => this.report("E0201", `${name}: ${message}`, { span: e.span }));
    }
    const builtin = BUILTINS[name];
    if (builtin) return this.callBuiltin(name, builtin, e, frame, path, named);
    const decl = this.program.decls.get(name);
    if (decl && decl.kind === "block") return this.callBlock(decl, e, frame, path);
    if (decl) return this.report("E0102", `\`${name}\` is a model; only blocks and layers can be called`, { span: e.callee.span, secondary: [{ span: decl.name.span, message: "model defined here" }] });
    const candidates = [...Object.keys(BUILTINS), ...Object.keys(FUNCTIONS), ...[...this.program.decls.values()].filter((d) => d.kind === "block").map((d) => d.name.name)];
    return this.report("E0102", `unknown block or layer \`${name}\``, {
      span: e.callee.span,
      label: "no block or layer has this name",
      help: suggestionHelp(name, candidates, "a block or layer") ?? "define it with `block NAME(...) { ... }` or import a file that does",
    });
  }

  /** Binds positional and keyword arguments to parameters; reports unknown, repeated and missing ones. */
  private bindArgs(
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
          this.report("E0106", `\`${callee}\` takes ${params.length} argument${params.length === 1 ? "" : "s"}, found ${e.args.filter((x) => !x.name).length} positional`, {
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
        this.report("E0103", `\`${callee}\` has no parameter \`${key}\``, {
          span: a.name.span,
          label: "unknown keyword",
          help: suggestionHelp(key, params.map((p) => p.name), "a parameter") ?? `its parameters are ${params.map((p) => `\`${p.name}\``).join(", ")}`,
        });
        ok = false;
        continue;
      }
      if (bound.has(key)) {
        this.report("E0106", `argument \`${key}\` is given twice`, { span: a.span, secondary: [{ span: bound.get(key)!.span, message: "first given here" }] });
        ok = false;
        continue;
      }
      bound.set(key, a);
    }
    return ok ? { bound, rest, extra } : undefined;
  }

  private callBuiltin(name: string, b: Builtin, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string, named: boolean): Value {
    if (e.name && !b.layer) this.report("E0201", `\`${name}\` creates no parameters and cannot be named`, { span: e.name.span, help: "remove `as ...`" });
    const binding = this.bindArgs(name, b.params, e, { variadic: b.variadic, extraKwargs: b.extraKwargs });
    if (!binding) return POISON;
    const args: Record<string, Value> = {};
    const spans = new Map<string, Span>();
    let poisoned = false;
    for (const p of b.params) {
      const a = binding.bound.get(p.name);
      if (!a) {
        if (p.default === undefined) {
          this.report("E0104", `\`${name}\` needs argument \`${p.name}\``, { span: e.span, label: `missing \`${p.name}\``, help: `\`${name}(${b.params.map((q) => (q.default === undefined ? q.name : `${q.name} = ...`)).join(", ")})\`` });
          poisoned = true;
          continue;
        }
        args[p.name] = p.default;
        continue;
      }
      spans.set(p.name, a.value.span);
      const v = this.eval(a.value, frame);
      if (v.t === "poison") {
        poisoned = true;
        continue;
      }
      const r = p.default?.t === "none" && v.t === "none" ? { ok: true as const, value: v } : conform(v, p.type);
      if (!r.ok) {
        this.report("E0201", `argument \`${p.name}\` of \`${name}\`: ${r.reason}`, { span: a.value.span, expected: typeText(p.type), found: describeValue(v) });
        poisoned = true;
        continue;
      }
      args[p.name] = r.value;
    }
    const rest = binding.rest.map((a, i) => {
      spans.set(String(i), a.value.span);
      return this.eval(a.value, frame);
    });
    const kwargs = new Map<string, Value>();
    for (const a of binding.extra) {
      spans.set(a.name!.name, a.value.span);
      kwargs.set(a.name!.name, this.eval(a.value, frame));
    }
    if (poisoned || rest.some((v) => v.t === "poison") || [...kwargs.values()].some((v) => v.t === "poison")) return POISON;
    const ctx: LayerCtx = {
      span: e.span,
      path,
      named,
      argSpan: (n) => spans.get(n) ?? e.span,
      error: (code, message, init) => this.report(code, message, { span: e.span, ...init }),
      node: (op, inputs, attrs, shape, opts) => this.addNode(op, inputs, attrs, shape, path, e.span, opts),
      paramNode: (shape, init) => this.addParamNode(shape, init, path, e.span),
    };
    return b.apply(ctx, args, rest, kwargs);
  }

  private callBlock(decl: A.BlockDecl, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string): Value {
    if (this.callStack.length >= MAX_DEPTH) return this.report("E0604", `blocks nest more than ${MAX_DEPTH} deep (does \`${decl.name.name}\` call itself?)`, { span: e.span });
    const binding = this.bindArgs(decl.name.name, decl.params.map((p) => ({ name: p.name.name })), e, {});
    if (!binding) return POISON;
    const callee: Frame = { decl, scope: new Map(), path, returned: false, ret: NONE };
    // Argument values are computed in the caller's frame; defaults in the callee's, so a default
    // may use earlier parameters (`nf: int = channels(x)`).
    const given = new Map<string, Value>();
    for (const [k, a] of binding.bound) given.set(k, this.eval(a.value, frame));
    if ([...given.values()].some((v) => v.t === "poison")) return POISON;
    this.callStack.push({ name: decl.name.name, span: e.callee.span });
    try {
      for (const p of decl.params) {
        const declared = this.declaredType(p);
        const v = given.get(p.name.name);
        if (v !== undefined) {
          const isNoneDefault = p.default?.kind === "none" && v.t === "none";
          callee.scope.set(p.name.name, isNoneDefault ? v : this.conformParam(p, v, declared, binding.bound.get(p.name.name)!.value.span, decl.name.name));
        } else if (p.default) {
          callee.scope.set(p.name.name, this.conformParam(p, this.eval(p.default, callee), declared, p.default.span, decl.name.name));
        } else {
          this.report("E0104", `\`${decl.name.name}\` needs argument \`${p.name.name}\``, {
            span: e.span,
            label: `missing \`${p.name.name}\``,
            secondary: [{ span: p.span, message: "parameter declared here" }],
          });
          return POISON;
        }
      }
      if ([...callee.scope.values()].some((v) => v.t === "poison")) return POISON;
      this.execBlock(decl.body, callee);
    } finally {
      this.callStack.pop();
    }
    if (!callee.returned) return this.report("E0601", `block \`${decl.name.name}\` ended without \`return\``, { span: e.span, secondary: [{ span: decl.name.span, message: "block defined here" }] });
    return callee.ret;
  }

  private declaredType(p: A.Param): VType | undefined {
    if (!p.type) return undefined;
    if (p.type.kind === "named" && !isKnownTypeName(p.type.name)) {
      this.report("E0201", `unknown type \`${p.type.name}\``, { span: p.type.span, help: "types are `int`, `float`, `bool`, `str`, `tensor`, `[T]` and string unions like `\"a\" | \"b\"`" });
      return undefined;
    }
    return typeFromAst(p.type);
  }

  private conformParam(p: A.Param, v: Value, t: VType | undefined, span: Span, owner?: string): Value {
    if (!t || v.t === "poison") return v;
    if (v.t === "none" && p.default?.kind === "none") return v;
    const r = conform(v, t);
    if (r.ok) return r.value;
    return this.report("E0201", `${owner ? `argument \`${p.name.name}\` of \`${owner}\`` : `parameter \`${p.name.name}\``}: ${r.reason}`, {
      span,
      expected: typeText(t),
      found: describeValue(v),
      secondary: [{ span: p.span, message: "declared here" }],
    });
  }

  // ---- seq ----

  private evalSeq(e: Extract<A.Expr, { kind: "seq" }>, frame: Frame, path: string): Value {
    if (!e.input) return this.report("E0002", "a `seq` needs an input", { span: e.span, help: "pipe into it: `x |> seq { ... }`" });
    let x = this.eval(e.input, frame);
    let index = 0;
    const run = (items: A.SeqItem[]): void => {
      for (const it of items) {
        if (x.t === "poison") return;
        if (it.kind === "invalid") {
          x = this.report("E0002", it.expr.reason, { span: it.expr.span });
          return;
        }
        if (it.kind === "if") {
          const c = this.eval(it.cond, frame);
          if (c.t === "poison") return void (x = POISON);
          if (c.t !== "bool") return void (x = this.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: it.cond.span }));
          if (c.v) run(it.items);
          continue;
        }
        const own = it.call.name ? this.moduleName(it.call.name, frame) : String(index);
        if (own === undefined) return void (x = POISON);
        const itemPath = join(path, own);
        index++;
        const input: A.Expr = { kind: "var", name: "\u0000seq", span: it.call.span };
        frame.scope.set("\u0000seq", x);
        if (it.call.kind === "seq") x = this.evalSeq({ ...it.call, input }, frame, itemPath);
        else x = this.evalCall({ ...it.call, args: [{ value: input, span: it.call.span }, ...it.call.args] }, frame, itemPath, true);
        frame.scope.delete("\u0000seq");
      }
    };
    run(e.items);
    return x;
  }

  // ---- nodes and parameters ----

  private addNode(op: string, inputs: TensorValue[], attrs: Record<string, AttrValue>, shape: number[], path: string, span: Span, opts: NodeOptions = {}): TensorValue {
    const id = this.nodes.length;
    const params: ParamSpec[] = (opts.params ?? []).map((p: LocalParam) => ({
      name: join(path, p.local),
      shape: p.shape,
      kind: p.kind ?? "param",
      dtype: p.dtype ?? "f32",
      init: p.init,
    }));
    for (const p of params) this.registerParam(p, span);
    this.nodes.push({ id, op, inputs: inputs.map((t) => t.node), attrs, path, params, shape, dtype: opts.dtype ?? "f32", flops: opts.flops ?? 0, span });
    return { t: "tensor", node: id, shape, dtype: opts.dtype ?? "f32" };
  }

  private addParamNode(shape: number[], init: ParamInit, path: string, span: Span): TensorValue {
    const id = this.nodes.length;
    const p: ParamSpec = { name: path, shape, kind: "param", dtype: "f32", init };
    this.registerParam(p, span);
    this.nodes.push({ id, op: "param", inputs: [], attrs: {}, path, params: [p], shape, dtype: "f32", flops: 0, span });
    return { t: "tensor", node: id, shape, dtype: "f32" };
  }

  private registerParam(p: ParamSpec, span: Span): void {
    const first = this.paramSites.get(p.name);
    if (first) {
      this.report("E0501", `parameter \`${p.name}\` would be created twice`, {
        span,
        label: "second layer with this name",
        secondary: [{ span: first, message: "first created here" }],
        help: "give one of the layers its own name with `as NAME`",
      });
      return;
    }
    this.paramSites.set(p.name, span);
    this.params.push(p);
  }
}

function valuesEqual(a: Value, b: Value): boolean | undefined {
  if (a.t === "none" || b.t === "none") return a.t === b.t;
  if ((a.t === "int" || a.t === "float") && (b.t === "int" || b.t === "float")) return a.v === b.v;
  if (a.t === "str" && b.t === "str") return a.v === b.v;
  if (a.t === "bool" && b.t === "bool") return a.v === b.v;
  if (a.t === "list" && b.t === "list") return a.items.length === b.items.length && a.items.every((x, i) => valuesEqual(x, b.items[i]) === true);
  if (a.t === "str" || b.t === "str" || a.t === "bool" || b.t === "bool") return false;
  return undefined;
}

// The checker: runs a model's spec with concrete parameters (defaults plus overrides), the way a
// hardware generator elaborates its loops. Every channel count, spatial size and parameter name
// follows from the run; every error is reported with the span of the text that caused it. Values
// whose error was already reported are `poison`, so one mistake yields one message; an error that
// ends checking (a failed `require`, a limit of limits.ts) stops the run with an Abort.
import type { Diagnostic, DiagnosticInit, Label } from "../diagnostics/diagnostic.js";
import { diag } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import { spanText, type SourceFile, type Span } from "../diagnostics/source.js";
import type * as A from "../front/ast.js";
import { assignedIn, namesIn, SkipUse } from "./ast-walk.js";
import { BUILTINS, FUNCTIONS, type Builtin, type LayerCtx, type LocalParam, type NodeOptions } from "./builtins.js";
import { Abort, MAX_CALL_DEPTH, MAX_EVAL_DEPTH, MAX_NODES, MAX_STEPS, thousands } from "./limits.js";
import type { AttrValue, LayerNode, ModelGraph, ModelInput, ParamInit, ParamSpec } from "./model-graph.js";
import { numberOp, valuesEqual } from "./arith.js";
import { ParamNames, type LoopPass, type Site } from "./param-names.js";
import { SkipStack } from "./skips.js";
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
  /** The parameter whose default is being computed (only earlier parameters are in scope). */
  defaulting?: A.Param;
}

/** Errors that end checking: everything after them would follow from them. */
const ENDS_CHECKING: ReadonlySet<DiagnosticCode> = new Set(["E0602", "E0604"]);

const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
const sameSpan = (a: Span, b: Span) => a.file === b.file && a.start === b.start && a.end === b.end;

export class Elaborator {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly fileIds = new Map<SourceFile, number>();
  private readonly nodes: LayerNode[] = [];
  private readonly names = new ParamNames((code, message, init) => this.report(code, message, init));
  private readonly inputs: ModelInput[] = [];
  private readonly skips = new SkipStack((code, message, init) => this.report(code, message, init));
  private readonly skipUse: SkipUse;
  private readonly callStack: { name: string; span: Span }[] = [];
  private readonly loops: LoopPass[] = [];
  /** Model parameters given by `--set` or a preset, by name. */
  private readonly overridden = new Map<string, Override>();
  private model: A.BlockDecl | undefined;
  private steps = 0;
  private depth = 0;
  /** The statement being run, for an error that has no better place (a stack overflow). */
  private at: Span | undefined;

  constructor(private readonly program: Program) {
    this.skipUse = new SkipUse((name) => program.decls.get(name));
  }

  // ---- diagnostics ----

  private spanKey(s: Span | undefined): string {
    if (!s) return "-";
    let id = this.fileIds.get(s.file);
    if (id === undefined) this.fileIds.set(s.file, (id = this.fileIds.size));
    return `${id}:${s.start}:${s.end}`;
  }

  /** Records a diagnostic once per place and message (`dedupe` widens "place", e.g. to the list an
   *  index error is about) and returns POISON; the calls being elaborated become secondary labels.
   *  An error of ENDS_CHECKING throws Abort. */
  private report(code: DiagnosticCode, message: string, init: DiagnosticInit = {}, dedupe?: Span): Value {
    const key = `${code}:${this.spanKey(dedupe ?? init.span)}:${message}`;
    if (this.seen.has(key)) return POISON;
    this.seen.add(key);
    this.diagnostics.push(diag(code, message, { ...init, secondary: [...(init.secondary ?? []), ...this.callLabels()] }));
    if (ENDS_CHECKING.has(code)) throw new Abort();
    return POISON;
  }

  /** Up to three enclosing calls, innermost first; a call repeated by recursion is one label. */
  private callLabels(): Label[] {
    const out: Label[] = [];
    const frames = [...this.callStack].reverse();
    for (let i = 0; i < frames.length && out.length < 3; ) {
      let j = i;
      while (j + 1 < frames.length && frames[j + 1].name === frames[i].name && sameSpan(frames[j + 1].span, frames[i].span)) j++;
      const n = j - i + 1;
      out.push({ span: frames[i].span, message: `in \`${frames[i].name}\`, called here${n > 1 ? ` recursively ${n} times` : ""}` });
      i = j + 1;
    }
    return out;
  }

  private tick(span: Span): void {
    this.at = span;
    if (++this.steps > MAX_STEPS) {
      this.report("E0604", `the spec does too much work to check (over ${thousands(MAX_STEPS)} steps)`, { span, label: "the limit is reached here", help: "check loop bounds" });
    }
  }

  /** Statements that did not run because of an error: whatever they assign is unknown now, so it
   *  is poisoned (a later use stays silent instead of failing on a stale value). */
  private notRunStmts(stmts: readonly A.Stmt[], frame: Frame): void {
    for (const name of assignedIn(stmts)) frame.scope.set(name, POISON);
    this.notRun({ stmts });
  }

  /** Code that did not run because of an error: if it could save or skip, skip balance is unknown. */
  private notRun(code: { stmts?: readonly A.Stmt[]; exprs?: readonly A.Expr[]; items?: readonly A.SeqItem[]; decl?: A.BlockDecl }): void {
    if (
      (code.stmts && this.skipUse.stmts(code.stmts)) ||
      (code.exprs && this.skipUse.exprs(code.exprs)) ||
      (code.items && this.skipUse.items(code.items)) ||
      (code.decl && this.skipUse.decl(code.decl))
    ) {
      this.skips.lose();
    }
  }

  /** One level deeper (an expression, a statement block); past MAX_EVAL_DEPTH, E0604 at `span`.
   *  Every `enter` is paired with a `leave` in a `finally`. */
  private enter(span: Span): void {
    if (++this.depth <= MAX_EVAL_DEPTH) return;
    this.report("E0604", "this nests too deeply to check", {
      span,
      label: "the limit is reached here",
      notes: [`expressions, statement blocks and block calls may nest ${MAX_EVAL_DEPTH} deep in all`],
      help: "split long `|>` chains and deep expressions with `name = ...`",
    });
  }

  private leave(): void {
    this.depth--;
  }

  // ---- the model ----

  run(model: A.BlockDecl, overrides: Override[], name = model.name.name): ModelGraph | undefined {
    this.model = model;
    try {
      return this.runModel(model, overrides, name);
    } catch (err) {
      if (err instanceof Abort) return undefined;
      if (!(err instanceof RangeError)) throw err;
      // The limits should keep the stack bounded; should one be missed, this is still an error
      // with a place, not a crash.
      this.diagnostics.push(diag("E0604", "the spec nests too deeply to check", { span: this.at ?? model.name.span, label: "while checking this" }));
      return undefined;
    }
  }

  private runModel(model: A.BlockDecl, overrides: Override[], name: string): ModelGraph | undefined {
    const frame: Frame = { decl: model, scope: new Map(), path: "", returned: false, ret: NONE };
    const config: Record<string, unknown> = {};
    const byKey = new Map(overrides.map((o) => [o.key, o]));
    for (const o of overrides) {
      if (model.params.some((p) => p.name.name === o.key)) this.overridden.set(o.key, o);
      else {
        this.report("E0103", `model \`${model.name.name}\` has no parameter \`${o.key}\``, {
          span: o.keySpan,
          label: "unknown key",
          help: suggestionHelp(o.key, model.params.map((p) => p.name.name)) ?? `its parameters are ${model.params.map((p) => `\`${p.name.name}\``).join(", ")}`,
          secondary: [{ span: model.name.span, message: "model defined here" }],
        });
      }
    }
    for (const p of model.params) {
      const o = byKey.get(p.name.name);
      const declared = this.declaredType(p);
      let value: Value;
      frame.defaulting = p;
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
      frame.defaulting = undefined;
      frame.scope.set(p.name.name, value);
      config[p.name.name] = valueToJson(value);
    }
    this.execBlock(model.body, frame);
    if (!frame.returned) {
      this.report("E0601", `model \`${model.name.name}\` does not return its output`, { span: model.name.span, help: "end the model with `return EXPR`" });
      return undefined;
    }
    const out = frame.ret;
    this.skips.checkBalanced(model.name.name, this.returnSpan(model) ?? model.name.span);
    if (out.t === "tensor" && out.shape.length !== 3 && out.shape.length !== 1) {
      this.report("E0306", `a model returns an image [C, H, W] (a denoiser) or a vector [K] of class logits (a classifier), found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    } else if (out.t !== "tensor" && out.t !== "poison") {
      this.report("E0201", `a model returns an image, found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    }
    if (this.diagnostics.some((d) => d.severity === "error") || out.t !== "tensor") return undefined;
    return { name, config, inputs: this.inputs, nodes: this.nodes, output: out.node, parameters: this.names.params };
  }

  private returnSpan(model: A.BlockDecl): Span | undefined {
    return [...model.body].reverse().find((s) => s.kind === "return")?.span;
  }

  // ---- statements ----

  private execBlock(stmts: A.Stmt[], frame: Frame): void {
    if (stmts.length === 0) return;
    this.enter(stmts[0].span);
    try {
      for (const s of stmts) {
        if (frame.returned) return;
        this.tick(s.span);
        this.exec(s, frame);
      }
    } finally {
      this.leave();
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
        let v = this.eval(s.value, frame);
        if (v.t !== "tensor" && v.t !== "poison") v = this.report("E0201", `only tensors can be saved for a skip, found ${describeValue(v)}`, { span: s.value.span });
        // A poisoned save still counts, so that the skip that takes it does not fail too.
        this.skips.save(v, s.span, frame.path);
        return;
      }
      case "for":
        return this.execFor(s, frame);
      case "if": {
        const c = this.eval(s.cond, frame);
        if (c.t !== "bool") {
          if (c.t !== "poison") this.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: s.cond.span });
          this.notRunStmts([...s.then, ...(s.else ?? [])], frame);
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
        if (!c.v) {
          // Checking stops here (ENDS_CHECKING): what follows would only repeat the failure.
          this.report("E0602", s.message, { span: s.cond.span, label: "this does not hold", notes: this.scopeNotes(s.cond, frame), secondary: this.overrideLabels(s.cond, frame) });
        }
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
    return namesIn(e).flatMap((n) => {
      const v = frame.scope.get(n);
      return v && v.t !== "poison" ? [`\`${n}\` is ${describeValue(v)}`] : [];
    });
  }

  /** Where the model parameters a failed model `require` mentions were set (`--set`, a preset). */
  private overrideLabels(e: A.Expr, frame: Frame): Label[] {
    if (frame.decl !== this.model) return [];
    return namesIn(e).flatMap((n) => {
      const o = this.overridden.get(n);
      return o ? [{ span: o.span, message: `\`${n}\` is set here` }] : [];
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
    if (it.t !== "list" || s.vars.length > 2) {
      if (it.t !== "list" && it.t !== "poison") this.report("E0201", `\`for\` iterates over a list, found ${describeValue(it)}`, { span: s.iterable.span, help: "use `range(n)` to count" });
      if (s.vars.length > 2) this.report("E0201", "`for` takes one name (the item) or two (the index and the item)", { span: s.vars[2].span });
      this.notRunStmts(s.body, frame);
      return;
    }
    const outer = frame.path;
    const loop = { stmt: s, index: 0 };
    this.loops.push(loop);
    try {
      for (const [i, item] of it.items.entries()) {
        this.tick(s.span);
        loop.index = i;
        if (s.vars.length === 2) {
          frame.scope.set(s.vars[0].name, int(i));
          frame.scope.set(s.vars[1].name, item);
        } else frame.scope.set(s.vars[0].name, item);
        frame.path = s.label ? join(join(outer, s.label.name), String(i)) : outer;
        this.execBlock(s.body, frame);
        if (frame.returned) return;
      }
    } finally {
      this.loops.pop();
      frame.path = outer;
    }
  }

  // ---- expressions ----

  eval(e: A.Expr, frame: Frame): Value {
    this.enter(e.span);
    try {
      return this.evalHere(e, frame);
    } finally {
      this.leave();
    }
  }

  private evalHere(e: A.Expr, frame: Frame): Value {
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
        return this.skips.take(e.span);
      case "var":
        return this.lookup(e, frame);
      case "list": {
        const items = e.items.map((i) => this.eval(i, frame));
        return items.some((v) => v.t === "poison") ? POISON : list(items, e.span);
      }
      case "unary":
        return this.evalUnary(e, frame);
      case "binary":
        return this.evalBinary(e, frame);
      case "ternary": {
        const c = this.eval(e.cond, frame);
        if (c.t !== "bool") {
          this.notRun({ exprs: [e.then, e.else] });
          return c.t === "poison" ? POISON : this.report("E0201", `a condition must be a bool, found ${describeValue(c)}`, { span: e.cond.span });
        }
        return this.eval(c.v ? e.then : e.else, frame);
      }
      case "index":
        return this.evalIndex(e, frame);
      case "call":
      case "seq": {
        const name = e.name ? this.moduleName(e.name, frame) : "";
        if (name === undefined) {
          this.notRun({ exprs: [e] });
          return POISON;
        }
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

  private lookup(e: Extract<A.Expr, { kind: "var" }>, frame: Frame): Value {
    const v = frame.scope.get(e.name);
    if (v) return v;
    if (BUILTINS[e.name] || FUNCTIONS[e.name] || this.program.decls.has(e.name)) {
      return this.report("E0201", `\`${e.name}\` is a layer or block, not a value`, { span: e.span, help: `call it: \`${e.name}(...)\`` });
    }
    // In a default, the parameter itself and those after it are not set yet.
    const param = frame.defaulting && frame.decl.params.find((p) => p.name.name === e.name);
    if (param && frame.defaulting) {
      const own = param === frame.defaulting;
      return this.report("E0101", own ? `the default of \`${e.name}\` uses \`${e.name}\` itself` : `\`${e.name}\` is a parameter declared after \`${frame.defaulting.name.name}\`; a default can only use earlier parameters`, {
        span: e.span,
        label: own ? "not set yet" : "declared later",
        secondary: own ? [] : [{ span: param.name.span, message: "declared here" }],
        help: own ? "give a value that does not depend on the parameter" : `move \`${e.name}\` before \`${frame.defaulting.name.name}\` in the parameter list`,
      });
    }
    // One message per unknown name and block: a misspelt or missing name usually has several uses.
    return this.report(
      "E0101",
      `unknown name \`${e.name}\``,
      { span: e.span, label: "not defined here", help: suggestionHelp(e.name, frame.scope.keys()) },
      frame.decl.name.span,
    );
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

  /** A chain of left-associative operators (`a + b + c`) is a left-deep tree: it is walked down
   *  its left spine with a loop, so a long chain does not recurse once per operator. */
  private evalBinary(e: Extract<A.Expr, { kind: "binary" }>, frame: Frame): Value {
    const spine: Extract<A.Expr, { kind: "binary" }>[] = [];
    let x: A.Expr = e;
    for (; x.kind === "binary"; x = x.left) spine.push(x);
    let acc = this.eval(x, frame);
    for (let i = spine.length - 1; i >= 0; i--) acc = this.applyBinary(spine[i], acc, frame);
    return acc;
  }

  private applyBinary(e: Extract<A.Expr, { kind: "binary" }>, l: Value, frame: Frame): Value {
    if (e.op === "and" || e.op === "or") {
      if (l.t !== "bool") {
        this.notRun({ exprs: [e.right] });
        return l.t === "poison" ? POISON : this.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(l)}`, { span: e.left.span });
      }
      if (e.op === "and" ? !l.v : l.v) return l;
      const r = this.eval(e.right, frame);
      if (r.t === "poison" || r.t === "bool") return r;
      return this.report("E0201", `\`${e.op}\` takes bools, found ${describeValue(r)}`, { span: e.right.span });
    }
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
    if (e.op === "+" && l.t === "list" && r.t === "list") return list([...l.items, ...r.items], e.span);
    if (e.op === "+" && l.t === "str" && r.t === "str") return str(l.v + r.v);
    if ((l.t !== "int" && l.t !== "float") || (r.t !== "int" && r.t !== "float")) {
      return this.report("E0201", `\`${e.op}\` is not defined for ${describeValue(l)} and ${describeValue(r)}`, { span: e.span });
    }
    const res = numberOp(e.op, l, r);
    if ("value" in res) return res.value;
    if (res.error !== "int overflow") return this.report("E0204", res.error, { span: e.span });
    return this.report("E0204", `int overflow: \`${spanText(e.span)}\` is too large to be exact`, {
      span: e.span,
      notes: [`ints are exact up to 2^53 - 1 = ${Number.MAX_SAFE_INTEGER}`],
    });
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
    const n = t.items.length;
    const k = i.v < 0 ? n + i.v : i.v;
    if (k >= 0 && k < n) return t.items[k];
    // Reported once per list: every index into an empty `--set nfs=[]` fails the same way.
    if (n === 0) {
      return this.report(
        "E0203",
        `index ${i.v} is out of range: the list is empty`,
        { span: e.index.span, secondary: t.origin ? [{ span: t.origin, message: "the empty list comes from here" }] : [] },
        t.origin,
      );
    }
    return this.report("E0203", `index ${i.v} is out of range for a list of ${n}`, { span: e.index.span, expected: `-${n} .. ${n - 1}` }, t.origin);
  }

  // ---- calls ----

  private evalCall(e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string, named: boolean): Value {
    const name = e.callee.name;
    const fn = FUNCTIONS[name];
    const args = e.args.map((a) => a.value);
    if (fn) {
      if (e.name) this.report("E0201", `\`${name}\` creates no module and cannot be named`, { span: e.name.span });
      const kw = e.args.find((a) => a.name);
      if (kw) {
        this.notRun({ exprs: args });
        return this.report("E0103", `\`${name}\` takes no keyword arguments`, { span: kw.span });
      }
      const values = args.map((a) => this.eval(a, frame));
      if (values.some((a) => a.t === "poison")) return POISON;
      if (values.length < fn.minArgs || values.length > fn.maxArgs) {
        const want = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
        return this.report("E0106", `\`${name}\` takes ${want} argument${fn.maxArgs === 1 ? "" : "s"}, found ${values.length}`, { span: e.span });
      }
      return fn.apply(values, (message, code = "E0201") => this.report(code, `${name}: ${message}`, { span: e.span }));
    }
    const builtin = BUILTINS[name];
    if (builtin) return this.callBuiltin(name, builtin, e, frame, path, named);
    const decl = this.program.decls.get(name);
    if (decl && decl.kind === "block") return this.callBlock(decl, e, frame, path);
    this.notRun({ exprs: args });
    if (decl) return this.report("E0102", `\`${name}\` is a model; only blocks and layers can be called`, { span: e.callee.span, secondary: [{ span: decl.name.span, message: "model defined here" }] });
    const candidates = [...Object.keys(BUILTINS), ...Object.keys(FUNCTIONS), ...[...this.program.decls.values()].filter((d) => d.kind === "block").map((d) => d.name.name)];
    return this.report("E0102", `unknown block or layer \`${name}\``, {
      span: e.callee.span,
      label: "no block or layer has this name",
      help: suggestionHelp(name, candidates) ?? "define it with `block NAME(...) { ... }` or import a file that does",
    });
  }

  /** Binds positional and keyword arguments to parameters; reports unknown and repeated ones. */
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
          help: suggestionHelp(key, params.map((p) => p.name)) ?? `its parameters are ${params.map((p) => `\`${p.name}\``).join(", ")}`,
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
    if (ok) return { bound, rest, extra };
    this.notRun({ exprs: e.args.map((a) => a.value) });
    return undefined;
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
    const local = e.name ? spanText(e.name.span) : undefined;
    const ctx: LayerCtx = {
      span: e.span,
      path,
      named,
      argSpan: (n) => spans.get(n) ?? e.span,
      error: (code, message, init) => this.report(code, message, { span: e.span, ...init }),
      node: (op, inputs, attrs, shape, opts) => this.addNode(op, inputs, attrs, shape, path, e.span, opts, local),
      paramNode: (shape, init) => this.addParamNode(shape, init, path, e.span, local),
    };
    return b.apply(ctx, args, rest, kwargs);
  }

  private callBlock(decl: A.BlockDecl, e: Extract<A.Expr, { kind: "call" }>, frame: Frame, path: string): Value {
    if (this.callStack.length >= MAX_CALL_DEPTH) {
      this.report("E0604", `blocks nest more than ${MAX_CALL_DEPTH} deep (does \`${decl.name.name}\` call itself?)`, { span: e.span, label: "the limit is reached here" });
    }
    const binding = this.bindArgs(decl.name.name, decl.params.map((p) => ({ name: p.name.name })), e, {});
    if (!binding) {
      this.notRun({ decl });
      return POISON;
    }
    // Arguments are the caller's: computed and checked in the caller's frame, and errors about them
    // carry no "in `block`" label. Defaults are the block's: computed in the callee's frame in order,
    // so a default may use earlier parameters (`nf: int = channels(x)`).
    const given = new Map<string, Value>();
    for (const p of decl.params) {
      const a = binding.bound.get(p.name.name);
      if (!a) continue;
      const v = this.eval(a.value, frame);
      const isNoneDefault = p.default?.kind === "none" && v.t === "none";
      given.set(p.name.name, isNoneDefault ? v : this.conformParam(p, v, this.declaredType(p), a.value.span, decl.name.name));
    }
    const missing = decl.params.find((p) => !given.has(p.name.name) && !p.default);
    if (missing) {
      this.report("E0104", `\`${decl.name.name}\` needs argument \`${missing.name.name}\``, {
        span: e.span,
        label: `missing \`${missing.name.name}\``,
        secondary: [{ span: missing.span, message: "parameter declared here" }],
      });
    }
    if (missing || [...given.values()].some((v) => v.t === "poison")) {
      this.notRun({ decl });
      return POISON;
    }
    const callee: Frame = { decl, scope: new Map(), path, returned: false, ret: NONE };
    this.callStack.push({ name: decl.name.name, span: e.callee.span });
    try {
      for (const p of decl.params) {
        const v = given.get(p.name.name);
        if (v !== undefined) {
          callee.scope.set(p.name.name, v);
          continue;
        }
        callee.defaulting = p;
        callee.scope.set(p.name.name, this.conformParam(p, this.eval(p.default!, callee), this.declaredType(p), p.default!.span, decl.name.name));
        callee.defaulting = undefined;
      }
      if ([...callee.scope.values()].some((v) => v.t === "poison")) {
        this.notRun({ decl });
        return POISON;
      }
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
    if (!e.input) {
      this.notRun({ items: e.items });
      return this.report("E0002", "a `seq` needs an input", { span: e.span, help: "pipe into it: `x |> seq { ... }`" });
    }
    let x = this.eval(e.input, frame);
    let index = 0;
    const run = (items: A.SeqItem[]): void => {
      for (const [k, it] of items.entries()) {
        if (x.t === "poison") return this.notRun({ items: items.slice(k) });
        if (it.kind === "invalid") {
          x = this.report("E0002", it.expr.reason, { span: it.expr.span });
          continue;
        }
        if (it.kind === "if") {
          const c = this.eval(it.cond, frame);
          if (c.t !== "bool") {
            x = c.t === "poison" ? POISON : this.report("E0201", `an \`if\` condition must be a bool, found ${describeValue(c)}`, { span: it.cond.span });
            continue;
          }
          if (c.v) run(it.items);
          continue;
        }
        const own = it.call.name ? this.moduleName(it.call.name, frame) : String(index);
        if (own === undefined) {
          x = POISON;
          continue;
        }
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

  /** Where a layer being created sits: its call, the loop passes and the block call around it. */
  private site(span: Span): Site {
    return { span, loops: this.loops.map((l) => ({ ...l })), caller: this.callStack.at(-1)?.span };
  }

  /** `local` is the `as` name of the call that makes the node, as written (for help texts). */
  private addNode(op: string, inputs: TensorValue[], attrs: Record<string, AttrValue>, shape: number[], path: string, span: Span, opts: NodeOptions = {}, local?: string): TensorValue {
    if (this.nodes.length >= MAX_NODES) {
      this.report("E0604", `the model has more than ${thousands(MAX_NODES)} layers`, { span, label: "the limit is reached here", help: "check loop bounds and sizes such as `num_layers`" });
    }
    const id = this.nodes.length;
    const params: ParamSpec[] = (opts.params ?? []).map((p: LocalParam) => ({
      name: join(path, p.local),
      shape: p.shape,
      kind: p.kind ?? "param",
      dtype: p.dtype ?? "f32",
      init: p.init,
    }));
    this.names.register(params, this.site(span), local);
    this.nodes.push({ id, op, inputs: inputs.map((t) => t.node), attrs, path, params, shape, dtype: opts.dtype ?? "f32", flops: opts.flops ?? 0, span });
    return { t: "tensor", node: id, shape, dtype: opts.dtype ?? "f32" };
  }

  private addParamNode(shape: number[], init: ParamInit, path: string, span: Span, local?: string): TensorValue {
    const p: ParamSpec = { name: path, shape, kind: "param", dtype: "f32", init };
    this.names.register([p], this.site(span), local);
    const id = this.nodes.length;
    this.nodes.push({ id, op: "param", inputs: [], attrs: {}, path, params: [p], shape, dtype: "f32", flops: 0, span });
    return { t: "tensor", node: id, shape, dtype: "f32" };
  }
}

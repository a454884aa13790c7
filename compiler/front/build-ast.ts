// CST -> AST. The CST may hold nodes that Chevrotain's recovery inserted or cut short; every
// accessor here tolerates missing children and drops what it cannot build (the syntax error
// for it was already reported), so one bad statement never hides the rest of the file.
import type { CstNode, IToken, CstElement } from "chevrotain";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile, Span } from "../diagnostics/source.js";
import type * as A from "./ast.js";

type Children = Record<string, CstElement[] | undefined>;

const isToken = (e: CstElement): e is IToken => (e as IToken).image !== undefined;

/** The text of a string literal; an unterminated one (already reported) runs to the end of its line. */
const stringValue = (t: IToken): string => (t.tokenType.name === "UnterminatedString" ? t.image.slice(1) : t.image.slice(1, -1));

export class AstBuilder {
  /** Errors found while building: literals out of range. */
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly src: SourceFile) {}

  private span(start: number, end: number): Span {
    const s = Number.isFinite(start) ? start : 0;
    const e = Number.isFinite(end) ? end : s;
    return { file: this.src, start: s, end: Math.max(s, e) };
  }

  private tokSpan(t: IToken): Span {
    return this.span(t.startOffset, (t.endOffset ?? t.startOffset) + 1);
  }

  private nodeSpan(n: CstNode): Span {
    const loc = n.location;
    if (!loc || !Number.isFinite(loc.startOffset)) return this.span(0, 0);
    return this.span(loc.startOffset, (loc.endOffset ?? loc.startOffset) + 1);
  }

  private nodes(c: Children, key: string): CstNode[] {
    return (c[key] ?? []).filter((e): e is CstNode => !isToken(e));
  }

  private node(c: Children, key: string): CstNode | undefined {
    return this.nodes(c, key)[0];
  }

  private toks(c: Children, key: string): IToken[] {
    return (c[key] ?? []).filter((e): e is IToken => isToken(e) && !e.isInsertedInRecovery && Number.isFinite(e.startOffset));
  }

  private tok(c: Children, key: string): IToken | undefined {
    return this.toks(c, key)[0];
  }

  private ident(t: IToken | undefined): A.Ident | undefined {
    return t ? { name: t.image, span: this.tokSpan(t) } : undefined;
  }

  file(cst: CstNode): A.FileAst {
    const c = cst.children;
    const out: A.FileAst = { path: this.src.path, imports: [], decls: [] };
    const v = this.node(c, "versionDecl");
    const vt = v && this.tok(v.children, "Int");
    if (v && vt) out.version = { value: Number(vt.image), text: vt.image, span: this.nodeSpan(v) };
    for (const item of this.nodes(c, "topItem")) {
      const ic = item.children;
      const imp = this.node(ic, "importDecl");
      if (imp) {
        const s = this.tok(imp.children, "StringLit");
        if (s) out.imports.push({ path: stringValue(s), span: this.nodeSpan(imp) });
        continue;
      }
      const decl = this.node(ic, "blockDecl") ?? this.node(ic, "modelDecl");
      if (!decl) continue;
      const name = this.ident(this.tok(decl.children, "Identifier"));
      if (!name) continue;
      const base = this.ident(this.tok(decl.children, "base"));
      const presetArgs = this.node(decl.children, "callSuffix");
      out.decls.push({
        kind: decl.name === "modelDecl" ? "model" : "block",
        name,
        params: this.params(this.node(decl.children, "paramList")),
        body: this.body(this.node(decl.children, "body")),
        preset: base && presetArgs ? { base, args: this.args(presetArgs) } : undefined,
        span: this.nodeSpan(decl),
      });
    }
    return out;
  }

  private params(n: CstNode | undefined): A.Param[] {
    if (!n) return [];
    const out: A.Param[] = [];
    for (const p of this.nodes(n.children, "param")) {
      const name = this.ident(this.tok(p.children, "Identifier"));
      if (!name) continue;
      const t = this.node(p.children, "typeExpr");
      const d = this.node(p.children, "expr");
      out.push({ name, type: t && this.typeExpr(t), default: d && this.expr(d), span: this.nodeSpan(p) });
    }
    return out;
  }

  private typeExpr(n: CstNode): A.TypeExpr | undefined {
    const atoms = this.nodes(n.children, "typeAtom");
    if (atoms.length > 1 || (atoms.length === 1 && this.tok(atoms[0].children, "StringLit"))) {
      const values = atoms.flatMap((a) => {
        const t = this.tok(a.children, "StringLit");
        return t ? [stringValue(t)] : [];
      });
      return { kind: "enum", values, span: this.nodeSpan(n) };
    }
    const a = atoms[0];
    if (!a) return undefined;
    const inner = this.node(a.children, "typeExpr");
    if (inner) {
      const elem = this.typeExpr(inner);
      return elem && { kind: "list", elem, span: this.nodeSpan(a) };
    }
    const id = this.tok(a.children, "Identifier");
    if (!id) return undefined;
    const name = id.image as "int" | "float" | "bool" | "str" | "tensor";
    return { kind: "named", name, span: this.tokSpan(id) };
  }

  private body(n: CstNode | undefined): A.Stmt[] {
    if (!n) return [];
    return this.nodes(n.children, "stmt").flatMap((s) => {
      const st = this.stmt(s);
      return st ? [st] : [];
    });
  }

  private stmt(n: CstNode): A.Stmt | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    const input = this.node(c, "inputStmt");
    if (input) {
      const ids = this.toks(input.children, "Identifier");
      const name = this.ident(ids[0]);
      const type = this.ident(ids[1]);
      if (!name || !type) return undefined;
      return { kind: "input", name, type, dims: this.exprs(input.children, "expr"), span };
    }
    const ret = this.node(c, "returnStmt");
    if (ret) {
      const value = this.optExpr(ret.children);
      return value && { kind: "return", value, span };
    }
    const save = this.node(c, "saveStmt");
    if (save) {
      const value = this.optExpr(save.children);
      return value && { kind: "save", value, span };
    }
    const f = this.node(c, "forStmt");
    if (f) {
      const iterable = this.optExpr(f.children);
      const vars = this.toks(f.children, "var").map((t) => this.ident(t)!);
      if (!iterable || vars.length === 0) return undefined;
      return { kind: "for", label: this.ident(this.tok(f.children, "label")), vars, iterable, body: this.body(this.node(f.children, "body")), span };
    }
    const i = this.node(c, "ifStmt");
    if (i) return this.ifStmt(i);
    const r = this.node(c, "requireStmt");
    if (r) {
      const cond = this.optExpr(r.children);
      const msg = this.tok(r.children, "StringLit");
      return cond && msg ? { kind: "require", cond, message: stringValue(msg), span } : undefined;
    }
    const a = this.node(c, "assignStmt");
    if (a) {
      const value = this.optExpr(a.children);
      const targets = this.toks(a.children, "Identifier").map((t) => this.ident(t)!);
      return value && targets.length ? { kind: "assign", targets, value, span } : undefined;
    }
    return undefined;
  }

  private ifStmt(n: CstNode): A.Stmt | undefined {
    const c = n.children;
    const cond = this.optExpr(c);
    if (!cond) return undefined;
    const bodies = this.nodes(c, "body");
    const elif = this.node(c, "ifStmt");
    const elseBody = elif ? [this.ifStmt(elif)].filter((s): s is A.Stmt => s !== undefined) : bodies[1] ? this.body(bodies[1]) : undefined;
    return { kind: "if", cond, then: this.body(bodies[0]), else: elseBody, span: this.nodeSpan(n) };
  }

  private exprs(c: Children, key: string): A.Expr[] {
    return this.nodes(c, key).flatMap((e) => {
      const x = this.expr(e);
      return x ? [x] : [];
    });
  }

  private optExpr(c: Children): A.Expr | undefined {
    const e = this.node(c, "expr");
    return e && this.expr(e);
  }

  expr(n: CstNode): A.Expr | undefined {
    switch (n.name) {
      case "expr":
        return this.pipe(n);
      case "ternary": {
        const cond = this.child(n, "orExpr");
        const parts = this.exprs(n.children, "expr");
        if (!cond) return undefined;
        if (!this.tok(n.children, "Question")) return cond;
        if (parts.length < 2) return undefined;
        return { kind: "ternary", cond, then: parts[0], else: parts[1], span: this.nodeSpan(n) };
      }
      case "orExpr":
        return this.leftAssoc(n, "andExpr", ["Or"]);
      case "andExpr":
        return this.leftAssoc(n, "notExpr", ["And"]);
      case "notExpr": {
        const inner = this.child(n, "notExpr");
        if (inner) return { kind: "unary", op: "not", operand: inner, span: this.nodeSpan(n) };
        return this.child(n, "cmpExpr");
      }
      case "cmpExpr":
        return this.leftAssoc(n, "addExpr", ["EqEq", "NotEq", "LtEq", "GtEq", "Lt", "Gt"]);
      case "addExpr":
        return this.leftAssoc(n, "mulExpr", ["Plus", "Minus"]);
      case "mulExpr":
        return this.leftAssoc(n, "unaryExpr", ["Star", "FloorDiv", "Slash", "Percent"]);
      case "unaryExpr": {
        const inner = this.child(n, "unaryExpr");
        if (inner) return { kind: "unary", op: "-", operand: inner, span: this.nodeSpan(n) };
        return this.child(n, "powExpr");
      }
      case "powExpr": {
        const base = this.child(n, "postfixExpr");
        const exp = this.child(n, "unaryExpr");
        const op = this.tok(n.children, "Power");
        if (!base) return undefined;
        if (!op) return base;
        if (!exp) return undefined;
        return { kind: "binary", op: "**", left: base, right: exp, opSpan: this.tokSpan(op), span: this.nodeSpan(n) };
      }
      case "postfixExpr":
        return this.postfix(n);
      default:
        return undefined;
    }
  }

  private child(n: CstNode, key: string): A.Expr | undefined {
    const c = this.node(n.children, key);
    return c && this.expr(c);
  }

  private static readonly OPS: Record<string, A.BinaryOp> = {
    Or: "or", And: "and", EqEq: "==", NotEq: "!=", LtEq: "<=", GtEq: ">=", Lt: "<", Gt: ">",
    Plus: "+", Minus: "-", Star: "*", FloorDiv: "//", Slash: "/", Percent: "%",
  };

  /** Rebuilds a left-associative chain from operands and operator tokens, in source order. */
  private leftAssoc(n: CstNode, operandKey: string, opKeys: string[]): A.Expr | undefined {
    const operands = this.nodes(n.children, operandKey);
    const ops = opKeys.flatMap((k) => this.toks(n.children, k).map((t) => ({ t, op: AstBuilder.OPS[k] })));
    ops.sort((a, b) => a.t.startOffset - b.t.startOffset);
    let acc = operands[0] && this.expr(operands[0]);
    if (!acc) return undefined;
    for (let i = 0; i < ops.length; i++) {
      const rhsNode = operands[i + 1];
      const rhs = rhsNode && this.expr(rhsNode);
      if (!rhs) return undefined;
      acc = { kind: "binary", op: ops[i].op, left: acc, right: rhs, opSpan: this.tokSpan(ops[i].t), span: { ...acc.span, end: rhs.span.end } };
    }
    return acc;
  }

  /** `a |> f(b) |> seq {...}` becomes f(a, b) then seq(input = f(a, b)). */
  private pipe(n: CstNode): A.Expr | undefined {
    const stages = this.nodes(n.children, "ternary");
    let acc = stages[0] && this.expr(stages[0]);
    if (!acc) return undefined;
    for (const st of stages.slice(1)) {
      const rhs = this.expr(st);
      if (!rhs) return undefined;
      const span: Span = { ...acc.span, end: rhs.span.end };
      if (rhs.kind === "call" && !rhs.piped) {
        acc = { ...rhs, args: [{ value: acc, span: acc.span }, ...rhs.args], piped: true, span };
      } else if (rhs.kind === "seq" && rhs.input === null) {
        acc = { ...rhs, input: acc, span };
      } else {
        acc = { kind: "invalid", reason: "only a layer call or a `seq` can follow `|>`", help: "write `x |> conv2d(16)` or `x |> seq { ... }`", span: rhs.span };
      }
    }
    return acc;
  }

  private postfix(n: CstNode): A.Expr | undefined {
    const c = n.children;
    const prim = this.node(c, "primary");
    let acc = prim && this.primary(prim);
    if (!acc) return undefined;
    // Suffixes in source order.
    const suffixes = [...this.nodes(c, "callSuffix"), ...this.nodes(c, "indexSuffix")].sort(
      (a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0),
    );
    for (const s of suffixes) {
      const span: Span = { ...acc.span, end: this.nodeSpan(s).end };
      if (s.name === "callSuffix") {
        if (acc.kind !== "var") {
          acc = { kind: "invalid", reason: "only a block or layer name can be called", span };
          continue;
        }
        acc = { kind: "call", callee: { name: acc.name, span: acc.span }, args: this.args(s), piped: false, span };
      } else {
        const index = this.optExpr(s.children);
        if (!index) return undefined;
        acc = { kind: "index", target: acc, index, span };
      }
    }
    const as = this.tok(c, "As");
    const mn = this.node(c, "moduleName");
    if (as && mn) {
      const name = this.moduleName(mn);
      if (name && (acc.kind === "call" || acc.kind === "seq")) acc = { ...acc, name, span: { ...acc.span, end: name.span.end } };
      else if (name) acc = { kind: "invalid", reason: "`as NAME` names the module a call creates; this is not a call", span: { ...acc.span, end: name.span.end } };
    }
    return acc;
  }

  private moduleName(n: CstNode): A.ModuleName | undefined {
    const c = n.children;
    const parts: A.ModuleName["parts"] = [];
    const pieces: Array<{ offset: number; part: A.ModuleName["parts"][number] }> = [];
    for (const t of [...this.toks(c, "Identifier"), ...this.toks(c, "Int")]) pieces.push({ offset: t.startOffset, part: { text: t.image } });
    for (const e of this.nodes(c, "expr")) {
      const x = this.expr(e);
      if (!x) return undefined;
      pieces.push({ offset: e.location?.startOffset ?? 0, part: { expr: x } });
    }
    pieces.sort((a, b) => a.offset - b.offset);
    for (const p of pieces) parts.push(p.part);
    return parts.length ? { parts, span: this.nodeSpan(n) } : undefined;
  }

  private args(s: CstNode): A.Arg[] {
    return this.nodes(s.children, "arg").flatMap((a) => {
      const value = this.optExpr(a.children);
      if (!value) return [];
      const name = this.ident(this.tok(a.children, "Identifier"));
      return [{ name, value, span: this.nodeSpan(a) }];
    });
  }

  private primary(n: CstNode): A.Expr | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    const f = this.tok(c, "Float") ?? this.tok(c, "Int");
    if (f) return this.number(f, span);
    const s = this.tok(c, "StringLit");
    if (s) return { kind: "str", value: stringValue(s), span };
    if (this.tok(c, "True")) return { kind: "bool", value: true, span };
    if (this.tok(c, "False")) return { kind: "bool", value: false, span };
    if (this.tok(c, "None")) return { kind: "none", span };
    if (this.tok(c, "Skip")) return { kind: "skip", span };
    const id = this.tok(c, "Identifier");
    if (id) return { kind: "var", name: id.image, span };
    const paren = this.node(c, "parenExpr");
    if (paren) return this.optExpr(paren.children);
    const list = this.node(c, "listExpr");
    if (list) return { kind: "list", items: this.exprs(list.children, "expr"), span };
    const seq = this.node(c, "seqExpr");
    if (seq) return { kind: "seq", input: null, items: this.seqItems(seq.children), span };
    return undefined;
  }

  /** A number literal; ints must be exact in a double (|n| <= 2^53 - 1), floats finite. */
  private number(t: IToken, span: Span): A.Expr {
    const isInt = t.tokenType.name === "Int";
    const value = Number(t.image);
    if (isInt ? !Number.isSafeInteger(value) : !Number.isFinite(value)) {
      this.diagnostics.push(
        diag("E0006", `${isInt ? "integer" : "number"} \`${t.image}\` is too large`, {
          span,
          label: isInt ? `the largest int is ${Number.MAX_SAFE_INTEGER} (2^53 - 1)` : "this does not fit a 64-bit float",
        }),
      );
    }
    return { kind: "num", value, isInt, span };
  }

  private seqItems(c: Children): A.SeqItem[] {
    const out: A.SeqItem[] = [];
    for (const it of this.nodes(c, "seqItem")) {
      const ic = it.children;
      if (this.tok(ic, "If")) {
        const cond = this.optExpr(ic);
        if (cond) out.push({ kind: "if", cond, items: this.seqItems(ic), span: this.nodeSpan(it) });
        continue;
      }
      const e = this.optExpr(ic);
      if (!e) continue;
      if (e.kind === "call" || e.kind === "seq") out.push({ kind: "layer", call: e });
      else out.push({ kind: "invalid", expr: { kind: "invalid", reason: "a `seq` item must be a layer call, a nested `seq` or an `if`", span: e.span } });
    }
    return out;
  }
}

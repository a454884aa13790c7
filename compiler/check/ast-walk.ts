// Questions about the AST that the checker asks without running it: which names an expression
// mentions, and whether code that will not run could have saved or taken a skip. The walks use an
// explicit stack: a long left-associative chain (`1 + 1 + ...`) is as deep as it is long.
import type * as A from "../front/ast.js";

type Node = { expr: A.Expr } | { stmt: A.Stmt } | { item: A.SeqItem };

function children(n: Node): Node[] {
  if ("stmt" in n) {
    const s = n.stmt;
    switch (s.kind) {
      case "input":
        return s.dims.map((expr) => ({ expr }));
      case "return":
      case "save":
      case "assign":
        return [{ expr: s.value }];
      case "require":
        return [{ expr: s.cond }];
      case "for":
        return [{ expr: s.iterable }, ...s.body.map((stmt) => ({ stmt }))];
      case "if":
        return [{ expr: s.cond }, ...s.then.map((stmt) => ({ stmt })), ...(s.else ?? []).map((stmt) => ({ stmt }))];
    }
  }
  if ("item" in n) {
    const it = n.item;
    if (it.kind === "layer") return [{ expr: it.call }];
    if (it.kind === "if") return [{ expr: it.cond }, ...it.items.map((item) => ({ item }))];
    return [];
  }
  const e = n.expr;
  const named = (m: A.ModuleName | undefined): Node[] => (m ? m.parts.flatMap((p) => ("expr" in p ? [{ expr: p.expr }] : [])) : []);
  switch (e.kind) {
    case "list":
      return e.items.map((expr) => ({ expr }));
    case "unary":
      return [{ expr: e.operand }];
    case "binary":
      return [{ expr: e.left }, { expr: e.right }];
    case "ternary":
      return [{ expr: e.cond }, { expr: e.then }, { expr: e.else }];
    case "index":
      return [{ expr: e.target }, { expr: e.index }];
    case "call":
      return [...e.args.map((a) => ({ expr: a.value })), ...named(e.name)];
    case "seq":
      return [...(e.input ? [{ expr: e.input }] : []), ...e.items.map((item) => ({ item })), ...named(e.name)];
    default:
      return [];
  }
}

/** Whether `test` holds for any node under `roots` (themselves included). */
function some(roots: Node[], test: (n: Node) => boolean): boolean {
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (test(n)) return true;
    stack.push(...children(n));
  }
  return false;
}

/** The variable names an expression mentions, in the order they first appear. */
export function namesIn(e: A.Expr): string[] {
  const first = new Map<string, number>();
  some([{ expr: e }], (n) => {
    if ("expr" in n && n.expr.kind === "var") first.set(n.expr.name, Math.min(first.get(n.expr.name) ?? Infinity, n.expr.span.start));
    return false;
  });
  return [...first].sort((a, b) => a[1] - b[1]).map(([name]) => name);
}

/** The names statements assign (`x = ...`, `a, b = ...`, loop variables, inputs), nested ones too. */
export function assignedIn(stmts: readonly A.Stmt[]): Set<string> {
  const names = new Set<string>();
  some(
    stmts.map((stmt) => ({ stmt })),
    (n) => {
      if (!("stmt" in n)) return false;
      const s = n.stmt;
      if (s.kind === "assign") s.targets.forEach((t) => names.add(t.name));
      else if (s.kind === "for") s.vars.forEach((v) => names.add(v.name));
      else if (s.kind === "input") names.add(s.name.name);
      return false;
    },
  );
  return names;
}

/** Whether code could `save` or `skip`, directly or through the blocks it calls. The checker asks
 *  when it does not run some code because of an earlier error: the skip stack is then no longer
 *  known exactly, and an unbalanced skip found later would only be a consequence. */
export class SkipUse {
  private readonly decls = new Map<A.BlockDecl, boolean>();

  constructor(private readonly lookup: (name: string) => A.BlockDecl | undefined) {}

  exprs(es: readonly A.Expr[]): boolean {
    return some(es.map((expr) => ({ expr })), (n) => this.direct(n));
  }

  stmts(ss: readonly A.Stmt[]): boolean {
    return some(ss.map((stmt) => ({ stmt })), (n) => this.direct(n));
  }

  items(is: readonly A.SeqItem[]): boolean {
    return some(is.map((item) => ({ item })), (n) => this.direct(n));
  }

  private direct(n: Node): boolean {
    if ("stmt" in n) return n.stmt.kind === "save";
    if ("expr" in n) {
      if (n.expr.kind === "skip") return true;
      if (n.expr.kind === "call") {
        const d = this.lookup(n.expr.callee.name);
        return d !== undefined && d.kind === "block" && this.decl(d);
      }
    }
    return false;
  }

  decl(d: A.BlockDecl): boolean {
    const known = this.decls.get(d);
    if (known !== undefined) return known;
    this.decls.set(d, false); // a block that calls itself adds nothing new
    const r = some([...d.body.map((stmt) => ({ stmt })), ...d.params.flatMap((p) => (p.default ? [{ expr: p.default }] : []))], (n) => this.direct(n));
    this.decls.set(d, r);
    return r;
  }
}

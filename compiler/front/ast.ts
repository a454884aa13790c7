// The typed AST of a .unet file. Every node carries the span of the text it came from.
import type { Span } from "../diagnostics/source.js";

export interface Ident {
  name: string;
  span: Span;
}

/** The name given with `as`: a dotted path whose parts may be computed (`attentions.{j}`). */
export interface ModuleName {
  parts: Array<{ text: string } | { expr: Expr }>;
  span: Span;
}

export type TypeExpr =
  | { kind: "named"; name: "int" | "float" | "bool" | "str" | "tensor"; span: Span }
  | { kind: "list"; elem: TypeExpr; span: Span }
  | { kind: "enum"; values: string[]; span: Span };

export interface Param {
  name: Ident;
  type?: TypeExpr;
  default?: Expr;
  span: Span;
}

export interface Arg {
  name?: Ident;
  value: Expr;
  span: Span;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "//" | "%" | "**" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

export type Expr =
  | { kind: "num"; value: number; isInt: boolean; span: Span }
  | { kind: "str"; value: string; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "none"; span: Span }
  | { kind: "skip"; span: Span }
  | { kind: "var"; name: string; span: Span }
  | { kind: "list"; items: Expr[]; span: Span }
  | { kind: "unary"; op: "-" | "not"; operand: Expr; span: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: "ternary"; cond: Expr; then: Expr; else: Expr; span: Span }
  | { kind: "index"; target: Expr; index: Expr; span: Span }
  /** `callee(args) as name`; `piped` is true when the first argument came from `a |> callee(...)`. */
  | { kind: "call"; callee: Ident; args: Arg[]; name?: ModuleName; piped: boolean; span: Span }
  /** `a |> seq {...}`: items applied in order to `input`. */
  | { kind: "seq"; input: Expr | null; items: SeqItem[]; name?: ModuleName; span: Span }
  /** Well-formed syntax in a place where it has no meaning (`a |> 3`, `x as n`); the checker reports it. */
  | { kind: "invalid"; reason: string; help?: string; span: Span };

export type SeqItem =
  | { kind: "layer"; call: Extract<Expr, { kind: "call" }> | Extract<Expr, { kind: "seq" }> }
  | { kind: "if"; cond: Expr; items: SeqItem[]; span: Span }
  | { kind: "invalid"; expr: Extract<Expr, { kind: "invalid" }> };

export type Stmt =
  | { kind: "input"; name: Ident; type: Ident; dims: Expr[]; span: Span }
  | { kind: "return"; value: Expr; span: Span }
  | { kind: "save"; value: Expr; span: Span }
  | { kind: "for"; label?: Ident; vars: Ident[]; iterable: Expr; body: Stmt[]; span: Span }
  | { kind: "if"; cond: Expr; then: Stmt[]; else?: Stmt[]; span: Span }
  | { kind: "require"; cond: Expr; message: string; span: Span }
  | { kind: "assign"; targets: Ident[]; value: Expr; span: Span };

export interface BlockDecl {
  kind: "block" | "model";
  name: Ident;
  params: Param[];
  body: Stmt[];
  /** `model name = base(key = value, ...)`: a model that is another with other defaults. */
  preset?: { base: Ident; args: Arg[] };
  span: Span;
}

export interface Import {
  path: string;
  span: Span;
}

export interface FileAst {
  path: string;
  /** `version N`: the number and its text as written (shown in messages). */
  version?: { value: number; text: string; span: Span };
  imports: Import[];
  decls: BlockDecl[];
}

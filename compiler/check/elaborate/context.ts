// The elaborator's state and the services every part of it uses: diagnostics (once per place,
// with the calls being elaborated as labels), the work and nesting limits, code that did not run,
// and the nodes and parameters of the model being built. The parts (statements, expressions,
// calls, ...) are functions over this context; `eval` and `execBlock` are abstract so that they
// can call each other without importing each other.
import type { DiagnosticInit, Label } from "../../diagnostics/diagnostic.js";
import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../../diagnostics/codes.js";
import type { SourceFile, Span } from "../../diagnostics/source.js";
import type * as A from "../../front/ast.js";
import { assignedIn, SkipUse } from "../ast-walk.js";
import type { LayerAttrs, LayerKind } from "../layer-kinds.js";
import type { LocalParam, NodeOptions } from "../layers/index.js";
import { Abort, MAX_EVAL_DEPTH, MAX_NODES, MAX_STEPS, thousands } from "../limits.js";
import type { LayerNode, LayerNodeOf, ModelInput, ParamInit, ParamSpec } from "../model-graph.js";
import { ParamNames, type LoopPass, type Site } from "../param-names.js";
import { SkipStack } from "../skips.js";
import { POISON, type TensorValue, type Value } from "../values.js";

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

export interface Frame {
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

export const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
const sameSpan = (a: Span, b: Span) => a.file === b.file && a.start === b.start && a.end === b.end;

export abstract class ElabContext {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly fileIds = new Map<SourceFile, number>();
  readonly nodes: LayerNode[] = [];
  readonly names = new ParamNames((code, message, init) => this.report(code, message, init));
  readonly inputs: ModelInput[] = [];
  readonly skips = new SkipStack((code, message, init) => this.report(code, message, init));
  private readonly skipUse: SkipUse;
  readonly callStack: { name: string; span: Span }[] = [];
  readonly loops: LoopPass[] = [];
  /** Model parameters given by `--set` or a preset, by name. */
  readonly overridden = new Map<string, Override>();
  model: A.BlockDecl | undefined;
  private steps = 0;
  private depth = 0;
  /** The statement being run, for an error that has no better place (a stack overflow). */
  protected at: Span | undefined;

  constructor(readonly program: Program) {
    this.skipUse = new SkipUse((name) => program.decls.get(name));
  }

  abstract eval(e: A.Expr, frame: Frame): Value;
  abstract execBlock(stmts: A.Stmt[], frame: Frame): void;

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
  report(code: DiagnosticCode, message: string, init: DiagnosticInit = {}, dedupe?: Span): Value {
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

  tick(span: Span): void {
    this.at = span;
    if (++this.steps > MAX_STEPS) {
      this.report("E0604", `the spec does too much work to check (over ${thousands(MAX_STEPS)} steps)`, { span, label: "the limit is reached here", help: "check loop bounds" });
    }
  }

  /** Statements that did not run because of an error: whatever they assign is unknown now, so it
   *  is poisoned (a later use stays silent instead of failing on a stale value). */
  notRunStmts(stmts: readonly A.Stmt[], frame: Frame): void {
    for (const name of assignedIn(stmts)) frame.scope.set(name, POISON);
    this.notRun({ stmts });
  }

  /** Code that did not run because of an error: if it could save or skip, skip balance is unknown. */
  notRun(code: { stmts?: readonly A.Stmt[]; exprs?: readonly A.Expr[]; items?: readonly A.SeqItem[]; decl?: A.BlockDecl }): void {
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
  enter(span: Span): void {
    if (++this.depth <= MAX_EVAL_DEPTH) return;
    this.report("E0604", "this nests too deeply to check", {
      span,
      label: "the limit is reached here",
      notes: [`expressions, statement blocks and block calls may nest ${MAX_EVAL_DEPTH} deep in all`],
      help: "split long `|>` chains and deep expressions with `name = ...`",
    });
  }

  leave(): void {
    this.depth--;
  }

  // ---- nodes and parameters ----

  /** Where a layer being created sits: its call, the loop passes and the block call around it. */
  private site(span: Span): Site {
    return { span, loops: this.loops.map((l) => ({ ...l })), caller: this.callStack.at(-1)?.span };
  }

  /** `local` is the `as` name of the call that makes the node, as written (for help texts). */
  addNode<K extends LayerKind>(op: K, inputs: TensorValue[], attrs: LayerAttrs[K], shape: number[], path: string, span: Span, opts: NodeOptions = {}, local?: string): TensorValue {
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
    const node: LayerNodeOf<K> = { id, op, inputs: inputs.map((t) => t.node), attrs, path, params, shape, dtype: opts.dtype ?? "f32", flops: opts.flops ?? 0, span };
    this.nodes.push(node as LayerNode);
    return { t: "tensor", node: id, shape, dtype: opts.dtype ?? "f32" };
  }

  addParamNode(shape: number[], init: ParamInit, path: string, span: Span, local?: string): TensorValue {
    const p: ParamSpec = { name: path, shape, kind: "param", dtype: "f32", init };
    this.names.register([p], this.site(span), local);
    const id = this.nodes.length;
    this.nodes.push({ id, op: "param", inputs: [], attrs: {}, path, params: [p], shape, dtype: "f32", flops: 0, span });
    return { t: "tensor", node: id, shape, dtype: "f32" };
  }
}

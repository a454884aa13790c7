// The .unet grammar as a Chevrotain CstParser with error recovery on: one run reports every syntax
// error of a file. The CST is turned into a typed AST with spans in compiler/front/build-ast.ts;
// parse-text.ts runs it over a text, messages.ts words its errors.
import { CstParser } from "chevrotain";
import * as T from "./lexer.js";
import { messages } from "./messages.js";
import { MAX_PARSE_DEPTH, NestingTooDeep } from "./nesting.js";

export class UnetParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, nodeLocationTracking: "full", maxLookahead: 4, errorMessageProvider: messages });
    this.performSelfAnalysis();
    if (typeof this.ruleDepth() !== "number") throw new Error("chevrotain no longer exposes RULE_STACK_IDX; update UnetParser.ruleDepth");
  }

  /** The current depth of the rule stack (a Chevrotain internal, checked in the constructor). */
  private ruleDepth(): number {
    return (this as unknown as { RULE_STACK_IDX: number }).RULE_STACK_IDX;
  }

  /** Called first in every rule that can recurse; skipped while Chevrotain records the grammar.
   *  The checks are made once, not per call: rules run very often. */
  private guardDepth(what: NestingTooDeep["what"]): void {
    this.ACTION(this.depthChecks[what]);
  }

  private readonly depthChecks: Record<NestingTooDeep["what"], () => void> = {
    expression: () => this.checkDepth("expression"),
    statement: () => this.checkDepth("statement"),
    type: () => this.checkDepth("type"),
  };

  private checkDepth(what: NestingTooDeep["what"]): void {
    if (this.ruleDepth() > MAX_PARSE_DEPTH) throw new NestingTooDeep(this.LA(1), what);
  }

  file = this.RULE("file", () => {
    this.OPTION(() => this.SUBRULE(this.versionDecl));
    this.MANY(() => this.SUBRULE(this.topItem));
  });

  versionDecl = this.RULE("versionDecl", () => {
    this.CONSUME(T.Version);
    this.CONSUME(T.Int);
  });

  topItem = this.RULE("topItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
    ]);
  });

  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.paramList);
    this.SUBRULE(this.body);
  });

  // `model name(params) { ... }`, or a preset of another model: `model cond = emb_unet(classes = 10)`.
  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OR([
      {
        ALT: () => {
          this.SUBRULE(this.paramList);
          this.SUBRULE(this.body);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Assign);
          this.CONSUME2(T.Identifier, { LABEL: "base" });
          this.SUBRULE(this.callSuffix);
        },
      },
    ]);
  });

  paramList = this.RULE("paramList", () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.param);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.param);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma)); // a trailing comma, for one parameter per line
    });
    this.CONSUME(T.RParen);
  });

  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Assign);
      this.SUBRULE(this.expr);
    });
  });

  typeExpr = this.RULE("typeExpr", () => {
    this.guardDepth("type");
    this.SUBRULE(this.typeAtom);
    this.MANY(() => {
      this.CONSUME(T.Bar);
      this.SUBRULE2(this.typeAtom);
    });
  });

  typeAtom = this.RULE("typeAtom", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.StringLit) },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.SUBRULE(this.typeExpr);
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });

  body = this.RULE("body", () => {
    this.guardDepth("statement");
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.stmt));
    this.CONSUME(T.RBrace);
  });

  stmt = this.RULE("stmt", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.saveStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.requireStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  inputStmt = this.RULE("inputStmt", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
      this.CONSUME(T.RBracket);
    });
  });

  returnStmt = this.RULE("returnStmt", () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expr);
  });

  saveStmt = this.RULE("saveStmt", () => {
    this.CONSUME(T.Save);
    this.SUBRULE(this.expr);
  });

  // `downs: for i, nf in nfs { ... }` names the module path prefix of each iteration `downs.<i>`.
  forStmt = this.RULE("forStmt", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier, { LABEL: "label" });
      this.CONSUME(T.Colon);
    });
    this.CONSUME(T.For);
    this.CONSUME2(T.Identifier, { LABEL: "var" });
    this.OPTION2(() => {
      this.CONSUME(T.Comma);
      this.CONSUME3(T.Identifier, { LABEL: "var" });
    });
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
  });

  ifStmt = this.RULE("ifStmt", () => {
    this.guardDepth("statement");
    this.CONSUME(T.If);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([
        { ALT: () => this.SUBRULE(this.ifStmt) },
        { ALT: () => this.SUBRULE2(this.body) },
      ]);
    });
  });

  requireStmt = this.RULE("requireStmt", () => {
    this.CONSUME(T.Require);
    this.SUBRULE(this.expr);
    this.CONSUME(T.Else);
    this.CONSUME(T.StringLit);
  });

  assignStmt = this.RULE("assignStmt", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  // Precedence, lowest first: |>, ?:, or, and, not, comparison, + -, * / // %, unary -, **, postfix.
  expr = this.RULE("expr", () => {
    this.guardDepth("expression");
    this.SUBRULE(this.ternary);
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.SUBRULE2(this.ternary);
    });
  });

  ternary = this.RULE("ternary", () => {
    this.SUBRULE(this.orExpr);
    this.OPTION(() => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expr);
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.expr);
    });
  });

  orExpr = this.RULE("orExpr", () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE("andExpr", () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  notExpr = this.RULE("notExpr", () => {
    this.guardDepth("expression");
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.cmpExpr) },
    ]);
  });

  cmpExpr = this.RULE("cmpExpr", () => {
    this.SUBRULE(this.addExpr);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]);
      this.SUBRULE2(this.addExpr);
    });
  });

  addExpr = this.RULE("addExpr", () => {
    this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.mulExpr);
    });
  });

  mulExpr = this.RULE("mulExpr", () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.FloorDiv) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  unaryExpr = this.RULE("unaryExpr", () => {
    this.guardDepth("expression");
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.powExpr) },
    ]);
  });

  powExpr = this.RULE("powExpr", () => {
    this.SUBRULE(this.postfixExpr);
    this.OPTION(() => {
      this.CONSUME(T.Power);
      this.SUBRULE(this.unaryExpr);
    });
  });

  postfixExpr = this.RULE("postfixExpr", () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.callSuffix) },
        { ALT: () => this.SUBRULE(this.indexSuffix) },
      ]);
    });
    // `conv2d(x, 32) as conv_in` names the module that the call creates; a name may be a dotted
    // path with computed parts: `as attentions.{j}`, `as to_out.0`.
    this.OPTION(() => {
      this.CONSUME(T.As);
      this.SUBRULE(this.moduleName);
    });
  });

  moduleName = this.RULE("moduleName", () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.OR([
        { ALT: () => this.CONSUME2(T.Identifier) },
        { ALT: () => this.CONSUME(T.Int) },
        {
          ALT: () => {
            this.CONSUME(T.LBrace);
            this.SUBRULE(this.expr);
            this.CONSUME(T.RBrace);
          },
        },
      ]);
    });
  });

  callSuffix = this.RULE("callSuffix", () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.arg);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
  });

  indexSuffix = this.RULE("indexSuffix", () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RBracket);
  });

  arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Assign);
    });
    this.SUBRULE(this.expr);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.None) },
      { ALT: () => this.CONSUME(T.Skip) },
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.seqExpr) },
    ]);
  });

  parenExpr = this.RULE("parenExpr", () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RParen);
  });

  listExpr = this.RULE("listExpr", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expr);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expr);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  // `seq { a(); if cond { b() }; c(n) }`: a chain applied to a piped input; items are numbered like
  // PyTorch's nn.Sequential (only the items present count), so parameter paths match state_dict names.
  seqExpr = this.RULE("seqExpr", () => {
    this.CONSUME(T.Seq);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.seqItem));
    this.CONSUME(T.RBrace);
  });

  seqItem = this.RULE("seqItem", () => {
    this.guardDepth("expression");
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.If);
          this.SUBRULE(this.expr);
          this.CONSUME(T.LBrace);
          this.MANY(() => this.SUBRULE(this.seqItem));
          this.CONSUME(T.RBrace);
        },
      },
      { ALT: () => this.SUBRULE2(this.expr) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });
}

/** The parser is built once and reused: Chevrotain's self-analysis dominates start-up. */
export const unetParser = new UnetParser();

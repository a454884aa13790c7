// Lexing and parsing a text in one call, with everything the front end needs to word errors.
import type { CstNode, ILexingError, IRecognitionException, IToken } from "chevrotain";
import * as T from "./lexer.js";
import { NestingTooDeep } from "./nesting.js";
import { unetParser, type UnetParser } from "./parser.js";

export interface RawParse {
  cst: CstNode;
  /** The tokens the parser saw, in order (for bracket matching in error messages). */
  tokens: IToken[];
  lexErrors: ILexingError[];
  /** `//` comments at the start of a line (see T.SlashComment). */
  slashComments: IToken[];
  parseErrors: IRecognitionException[];
  /** Set when the input nests deeper than MAX_PARSE_DEPTH: the parse stopped there and `cst` is empty. */
  tooDeep?: NestingTooDeep;
}

function run(text: string, rule: (p: UnetParser) => CstNode): RawParse {
  const lex = T.unetLexer.tokenize(text);
  unetParser.input = lex.tokens;
  const slashComments = (lex.groups.badComments ?? []) as IToken[];
  try {
    const cst = rule(unetParser);
    return { cst, tokens: lex.tokens, lexErrors: lex.errors, slashComments, parseErrors: [...unetParser.errors] };
  } catch (err) {
    if (!(err instanceof NestingTooDeep)) throw err;
    return { cst: { name: "file", children: {} }, tokens: lex.tokens, lexErrors: lex.errors, slashComments, parseErrors: [], tooDeep: err };
  }
}

export function parseText(text: string): RawParse {
  return run(text, (p) => p.file());
}

/** Parses a lone expression (the value of `--set key=value`). */
export function parseExpressionText(text: string): RawParse {
  return run(text, (p) => p.expr());
}

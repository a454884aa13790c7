// Text -> AST plus syntax diagnostics (lexer, parser and version), all of them in one run.
import type { IRecognitionException, IToken } from "chevrotain";
import { MAX_PARSE_DEPTH } from "../../grammars/nesting.js";
import { parseExpressionText, parseText, type RawParse } from "../../grammars/parse-text.js";
import { diag, type Diagnostic, type Label } from "../diagnostics/diagnostic.js";
import { escapeText } from "../diagnostics/render.js";
import { lineCol, makeSource, type SourceFile, type Span } from "../diagnostics/source.js";
import { AstBuilder } from "./build-ast.js";
import type { Expr, FileAst } from "./ast.js";

/** The .unet format versions this compiler reads. */
export const FORMAT_VERSION = 1;

export interface ParseResult {
  source: SourceFile;
  ast: FileAst;
  diagnostics: Diagnostic[];
}

function tokenSpan(file: SourceFile, t: IToken | undefined): Span | undefined {
  if (!t || !Number.isFinite(t.startOffset)) return undefined;
  return { file, start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 };
}

const line = (s: Span) => lineCol(s.file, s.start).line;

/** Closing token name -> the bracket that opens it, and opening token name -> the bracket that closes it. */
const OPENER_OF: Record<string, string> = { RParen: "(", RBracket: "[", RBrace: "{" };
const CLOSER_OF: Record<string, string> = { LParen: ")", LBracket: "]", LBrace: "}" };

/** The brackets open just before token `upTo` (innermost last), and whether `upTo` is a closer that
 *  none of them opens. A closer closes the nearest open bracket of its kind (and those inside it). */
function openBrackets(tokens: readonly IToken[], upTo: IToken): { open: IToken[]; unmatched: boolean } {
  const open: IToken[] = [];
  const opens = (o: IToken, closer: IToken) => CLOSER_OF[o.tokenType.name] === closer.image;
  for (const t of tokens) {
    const isCloser = OPENER_OF[t.tokenType.name] !== undefined;
    if (t === upTo) return { open, unmatched: isCloser && !open.some((o) => opens(o, t)) };
    if (CLOSER_OF[t.tokenType.name]) open.push(t);
    else if (isCloser) {
      for (let k = open.length - 1; k >= 0; k--) {
        if (!opens(open[k], t)) continue;
        open.length = k;
        break;
      }
    }
  }
  return { open, unmatched: false };
}

/** Tokens that can end an expression or a statement: a line ending in one may be complete. */
const ENDS_OPERAND = new Set(["Identifier", "Int", "Float", "StringLit", "UnterminatedString", "True", "False", "None", "Skip", "RParen", "RBracket", "RBrace"]);

/** One syntax error as a diagnostic: where it is, what was expected, the bracket it concerns. */
function parseErrorDiagnostic(file: SourceFile, raw: RawParse, e: IRecognitionException): Found {
  const found = e.token;
  const at = tokenSpan(file, found);
  const prevToken = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  const prev = tokenSpan(file, prevToken);
  // A specific missing token (`)`, `else`) or a line that cannot be complete (it ends in `+`, `=`, `,`)
  // is reported where the line stops; an unexpected token that starts a line is reported on it.
  const missingAtLineEnd = e.name === "MismatchedTokenException" || (prevToken !== undefined && !ENDS_OPERAND.has(prevToken.tokenType.name));
  const expected = /^expected (.*), found /s.exec(e.message)?.[1];
  const secondary: Label[] = [];
  let message = e.message;
  let label = "unexpected here";
  let span: Span;
  let help: string | undefined;
  if (found && at && OPENER_OF[found.tokenType.name] && openBrackets(raw.tokens, found).unmatched) {
    // A closer nothing opened: say so instead of what the parser wanted in its place.
    const opener = OPENER_OF[found.tokenType.name];
    message = `unmatched \`${found.image}\``;
    label = `no \`${opener}\` opens this`;
    help = `remove it, or add the \`${opener}\` it closes`;
    span = at;
  } else if (prev && (!at || (line(at) > line(prev) && missingAtLineEnd))) {
    // What is missing belongs at the end of the previous token's line, not on the next line.
    span = { file, start: prev.end, end: prev.end + 1 };
    label = expected ? `expected ${expected} here` : "expected more here";
  } else span = at ?? prev ?? { file, start: file.text.length, end: file.text.length };
  if (found && expected && !help && ["`)`", "`]`", "`}`"].includes(expected)) {
    const want = expected[1];
    const opener = [...openBrackets(raw.tokens, found).open].reverse().find((t) => CLOSER_OF[t.tokenType.name] === want);
    const os = tokenSpan(file, opener);
    if (os) secondary.push({ span: os, message: `this \`${opener!.image}\` is not closed` });
  }
  if (found && (found.image === "//" || found.image === "/") && !help) help = "comments start with `#`";
  const lines = [line(span), ...(at ? [line(at)] : [])];
  // Raised between top-level items, or at the end of the file: after an earlier error, the parser
  // gave up on a definition or its recovery consumed the closing `}`.
  const afterRecovery = (e.context?.ruleStack ?? []).every((r) => r === "file" || r === "topItem") || found?.tokenType.name === "EOF";
  return { d: diag("E0002", message, { span, label, secondary, help }), lines, afterRecovery };
}

function lexDiagnostics(file: SourceFile, raw: RawParse): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of raw.lexErrors) {
    const span = { file, start: e.offset, end: e.offset + 1 };
    const ch = String.fromCodePoint(file.text.codePointAt(e.offset) ?? 0xfffd);
    const shown = ch === "`" ? "'`'" : `\`${escapeText(ch)}\``;
    out.push(
      diag("E0001", `unexpected character ${shown}`, {
        span: { ...span, end: e.offset + ch.length },
        label: "no token starts with this character",
        help: ch === "/" ? "comments start with `#`" : undefined,
      }),
    );
  }
  for (const t of raw.tokens) {
    if (t.tokenType.name !== "UnterminatedString") continue;
    out.push(diag("E0003", "unterminated string", { span: { file, start: t.startOffset, end: t.startOffset + 1 }, label: "this string has no closing `\"` on its line", help: "add the closing `\"`" }));
  }
  for (const t of raw.slashComments) {
    out.push(
      diag("E0001", "`//` does not start a comment", {
        span: { file, start: t.startOffset, end: t.startOffset + 2 },
        label: "`//` is integer division",
        help: "comments start with `#`",
      }),
    );
  }
  return out;
}

interface Found {
  d: Diagnostic;
  /** The lines the error concerns. */
  lines: number[];
  /** Raised between top-level items (`expected \`import\`, \`block\` or \`model\``) or at the end
   *  of the file: reported only when it is the first error. */
  afterRecovery: boolean;
}

/** Lexer and parser errors in file order, at most one per line: after a first error on a line,
 *  the parser's recovery mostly reports the rest of that line again. And once the parser has
 *  given up on a definition after an error in it, it resumes between top-level items, where the
 *  rest of that definition is "not an `import`, `block` or `model`", or reaches the end of the
 *  file missing the `}` it skipped: only consequences. */
function syntaxDiagnostics(file: SourceFile, raw: RawParse): Diagnostic[] {
  if (raw.tooDeep) {
    const t = raw.tooDeep.token;
    const span = tokenSpan(file, t) ?? { file, start: file.text.length, end: file.text.length };
    const what = raw.tooDeep.what === "statement" ? "blocks nest" : `${raw.tooDeep.what === "type" ? "a type" : "an expression"} nests`;
    return [
      ...lexDiagnostics(file, raw),
      diag("E0604", `${what} too deeply to parse`, {
        span,
        label: "the nesting limit is reached here",
        notes: [`the parser follows at most ${MAX_PARSE_DEPTH} nested grammar rules (about 35 levels of brackets)`],
        help: raw.tooDeep.what === "statement" ? "move inner parts into a `block`" : "give parts of it names with `name = ...`",
      }),
    ];
  }
  const found: Found[] = lexDiagnostics(file, raw).map((d) => ({ d, lines: [line(d.span!)], afterRecovery: false }));
  // Recovery can fail twice on one token (no statement starts here, and no `}` either): the first counts.
  const tokens = new Set<number>();
  for (const e of raw.parseErrors) {
    const key = e.token && Number.isFinite(e.token.startOffset) ? e.token.startOffset : -1;
    if (tokens.has(key)) continue;
    tokens.add(key);
    found.push(parseErrorDiagnostic(file, raw, e));
  }
  found.sort((a, b) => a.d.span!.start - b.d.span!.start);
  const taken = new Set<number>();
  const out: Diagnostic[] = [];
  for (const { d, lines, afterRecovery } of found) {
    if (lines.some((l) => taken.has(l)) || (afterRecovery && out.length > 0)) continue;
    for (const l of lines) taken.add(l);
    out.push(d);
  }
  return out;
}

export function parseSource(path: string, text: string): ParseResult {
  const source = makeSource(path, text);
  const raw = parseText(text);
  const diagnostics = syntaxDiagnostics(source, raw);
  const builder = new AstBuilder(source);
  const ast = builder.file(raw.cst);
  diagnostics.push(...builder.diagnostics);
  if (raw.tooDeep) return { source, ast, diagnostics };
  if (!ast.version) {
    diagnostics.push(
      diag("E0004", "this file does not say which version of the .unet format it is written in", {
        span: { file: source, start: 0, end: Math.min(text.indexOf("\n") >>> 0, text.length) || 0 },
        label: "expected `version 1` before this",
        help: `add \`version ${FORMAT_VERSION}\` as the first line`,
      }),
    );
  } else if (ast.version.value !== FORMAT_VERSION) {
    diagnostics.push(
      diag("E0004", `unsupported .unet format version ${ast.version.text}`, {
        span: ast.version.span,
        expected: `version ${FORMAT_VERSION}`,
        found: `version ${ast.version.text}`,
      }),
    );
  }
  return { source, ast, diagnostics };
}

/** Parses a lone expression (the value of `--set key=value`) whose spans lie in `file`: `text`
 *  is laid out at the offsets of `file` (blanks elsewhere). Undefined when it does not lex or
 *  parse, for the caller to word the error; otherwise the AST and the builder's diagnostics. */
export function parseExpressionIn(file: SourceFile, text: string): { expr: Expr | undefined; diagnostics: Diagnostic[] } | undefined {
  const raw = parseExpressionText(text);
  if (raw.lexErrors.length || raw.parseErrors.length || raw.tooDeep) return undefined;
  const builder = new AstBuilder(file);
  const expr = builder.expr(raw.cst);
  return { expr, diagnostics: builder.diagnostics };
}

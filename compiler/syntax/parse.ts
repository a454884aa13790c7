// Text -> AST plus syntax diagnostics (lexer, parser and version), all of them in one run.
import type { IRecognitionException, IToken } from "chevrotain";
import { MAX_PARSE_DEPTH, parseText, type RawParse } from "../../grammars/parser.js";
import { diag, type Diagnostic, type Label } from "../diagnostics/diagnostic.js";
import { escapeText } from "../diagnostics/render.js";
import { lineCol, makeSource, type SourceFile, type Span } from "../diagnostics/source.js";
import { AstBuilder } from "./build-ast.js";
import type { FileAst } from "./ast.js";

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

/** The brackets still open just before token `upTo` (innermost last). A closer pops back to the
 *  nearest opener of its kind; a closer with none is unmatched and returned as such. */
function openBrackets(tokens: readonly IToken[], upTo: IToken): { open: IToken[]; unmatched: boolean } {
  const open: IToken[] = [];
  for (const t of tokens) {
    const name = t.tokenType.name;
    const isTarget = t === upTo;
    if (CLOSER_OF[name] && !isTarget) open.push(t);
    else if (OPENER_OF[name]) {
      const at = open.map((o) => o.tokenType.name).lastIndexOf(`L${name.slice(1)}`);
      if (isTarget) return { open, unmatched: at < 0 };
      if (at >= 0) open.length = at;
    }
    if (isTarget) break;
  }
  return { open, unmatched: false };
}

/** One syntax error as a diagnostic: where it is, what was expected, the bracket it concerns. */
function parseErrorDiagnostic(file: SourceFile, raw: RawParse, e: IRecognitionException): { d: Diagnostic; lines: number[] } {
  const found = e.token;
  const at = tokenSpan(file, found);
  const prev = tokenSpan(file, (e as IRecognitionException & { previousToken?: IToken }).previousToken);
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
  } else if (prev && (!at || line(at) > line(prev))) {
    // What is missing belongs at the end of the previous token's line, not on the next line.
    span = { file, start: prev.end, end: prev.end + 1 };
    label = expected ? `expected ${expected} here` : "expected more here";
  } else span = at ?? prev ?? { file, start: file.text.length, end: file.text.length };
  if (found && expected && ["`)`", "`]`", "`}`"].includes(expected)) {
    const want = expected[1];
    const opener = [...openBrackets(raw.tokens, found).open].reverse().find((t) => CLOSER_OF[t.tokenType.name] === want);
    const os = tokenSpan(file, opener);
    if (os) secondary.push({ span: os, message: `this \`${opener!.image}\` is not closed` });
  }
  if (found && (found.image === "//" || found.image === "/") && !help) help = "comments start with `#`";
  const lines = [line(span), ...(at ? [line(at)] : [])];
  return { d: diag("E0002", message, { span, label, secondary, help }), lines };
}

function lexDiagnostics(file: SourceFile, raw: RawParse): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of raw.lexErrors) {
    const span = { file, start: e.offset, end: e.offset + 1 };
    const ch = String.fromCodePoint(file.text.codePointAt(e.offset) ?? 0xfffd);
    out.push(
      diag("E0001", `unexpected character \`${escapeText(ch)}\``, {
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

/** Lexer and parser errors in file order, at most one per line: after a first error on a line,
 *  the parser's recovery mostly reports the rest of that line again. */
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
  const found: { d: Diagnostic; lines: number[] }[] = lexDiagnostics(file, raw).map((d) => ({ d, lines: [line(d.span!)] }));
  for (const e of raw.parseErrors) found.push(parseErrorDiagnostic(file, raw, e));
  found.sort((a, b) => a.d.span!.start - b.d.span!.start);
  const taken = new Set<number>();
  const out: Diagnostic[] = [];
  for (const { d, lines } of found) {
    if (lines.some((l) => taken.has(l))) continue;
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

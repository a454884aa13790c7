// Text -> AST plus syntax diagnostics (lexer, parser and version), all of them in one run.
import type { IRecognitionException, IToken } from "chevrotain";
import { parseText } from "../../grammars/parser.js";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { makeSource, type SourceFile, type Span } from "../diagnostics/source.js";
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

function parseErrorSpan(file: SourceFile, e: IRecognitionException): Span {
  const at = tokenSpan(file, e.token);
  if (at) return at;
  // EOF and recovery-inserted tokens have no location: point just after the previous token.
  const prev = tokenSpan(file, (e as IRecognitionException & { previousToken?: IToken }).previousToken);
  if (prev) return { file, start: prev.end, end: prev.end + 1 };
  return { file, start: file.text.length, end: file.text.length };
}

export function parseSource(path: string, text: string): ParseResult {
  const source = makeSource(path, text);
  const raw = parseText(text);
  const diagnostics: Diagnostic[] = [];
  for (const e of raw.lexErrors) {
    const span = { file: source, start: e.offset, end: e.offset + Math.max(1, e.length) };
    const ch = text[e.offset] ?? "";
    if (ch === '"') diagnostics.push(diag("E0003", "unterminated string", { span: { ...span, end: e.offset + 1 }, label: "this string has no closing `\"` on its line" }));
    else diagnostics.push(diag("E0001", `unexpected character \`${ch}\``, { span: { ...span, end: e.offset + 1 }, label: "no token starts with this character", help: ch === "/" ? "comments start with `#`" : undefined }));
  }
  const seen = new Set<number>();
  for (const e of raw.parseErrors) {
    const span = parseErrorSpan(source, e);
    if (seen.has(span.start)) continue; // one message per place: recovery can report a token twice
    seen.add(span.start);
    diagnostics.push(diag("E0002", e.message, { span, label: "unexpected here" }));
  }
  const ast = new AstBuilder(source).file(raw.cst);
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
      diag("E0004", `unsupported .unet format version ${ast.version.value}`, {
        span: ast.version.span,
        expected: `version ${FORMAT_VERSION}`,
        found: `version ${ast.version.value}`,
      }),
    );
  }
  return { source, ast, diagnostics };
}

// Renders diagnostics rustc-style (file:line:col, the source line, carets under the span) or as JSON.
import type { Diagnostic, Label } from "./diagnostic.js";
import { lineCol, lineText, type Span } from "./source.js";
import { CODES } from "./codes.js";
import type { UserError } from "./user-error.js";

export interface RenderOptions {
  color?: boolean;
}

const paint = (on: boolean, code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export function location(span: Span): string {
  const { line, col } = lineCol(span.file, span.start);
  return `${span.file.path}:${line}:${col}`;
}

const TAB_WIDTH = 4;
/** Characters a terminal would not show as one visible cell: controls, format characters (BOM,
 *  zero-width space), lone surrogates, line/paragraph separators, private and unassigned code points. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;
const NON_PRINTABLE_ALL = new RegExp(NON_PRINTABLE.source, "gu");

/** Text for a message: non-printable characters (tabs too) written as escapes (`\u0000`). */
export function escapeText(s: string): string {
  return s.replace(NON_PRINTABLE_ALL, (c) => (c.length > 1 ? `\\u{${c.codePointAt(0)!.toString(16)}}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** East Asian wide and fullwidth characters and emoji take two terminal cells. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** A source line as shown: tabs expanded to the next multiple of TAB_WIDTH, non-printable characters
 *  replaced by one visible cell (control pictures such as `␀`, else `�`). `cols[i]` is the display
 *  column (0-based) of code unit i, `cols[text.length]` the width, so carets line up with the text. */
export function displayLine(text: string): { shown: string; cols: number[] } {
  let shown = "";
  const cols: number[] = [];
  let col = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    cols.push(col);
    if (ch.length === 2) cols.push(col);
    if (ch === "\t") {
      const n = TAB_WIDTH - (col % TAB_WIDTH);
      shown += " ".repeat(n);
      col += n;
    } else if (NON_PRINTABLE.test(ch)) {
      shown += cp < 0x20 ? String.fromCharCode(0x2400 + cp) : cp === 0x7f ? "\u2421" : "\ufffd";
      col += 1;
    } else {
      shown += ch;
      col += isWide(cp) ? 2 : 1;
    }
    i += ch.length;
  }
  cols.push(col);
  return { shown, cols };
}

function snippet(span: Span, mark: string, text: string | undefined, gutter: number, color: (s: string) => string): string[] {
  const start = lineCol(span.file, span.start);
  const end = lineCol(span.file, Math.max(span.start, span.end - 1));
  const src = lineText(span.file, start.line);
  const { shown, cols } = displayLine(src);
  // Display column of code unit i (0-based); past the end of the line, one cell per unit.
  const colOf = (i: number) => (i < cols.length ? cols[i] : cols[cols.length - 1] + i - (cols.length - 1));
  const from = colOf(start.col - 1);
  const to = end.line === start.line ? colOf(end.col) : colOf(src.length);
  const width = Math.max(1, to - from);
  const pad = " ".repeat(gutter);
  const num = String(start.line).padStart(gutter);
  const underline = " ".repeat(from) + color(mark.repeat(width) + (text ? ` ${escapeText(text)}` : ""));
  return [`${num} | ${shown}`, `${pad} | ${underline}`];
}

export function renderDiagnostic(d: Diagnostic, opts: RenderOptions = {}): string {
  const on = opts.color ?? false;
  const red = paint(on, "1;31");
  const yellow = paint(on, "1;33");
  const blue = paint(on, "1;34");
  const bold = paint(on, "1");
  const head = d.severity === "error" ? red(`error[${d.code}]`) : yellow(`warning[${d.code}]`);
  const out: string[] = [`${head}${bold(`: ${escapeText(d.message)}`)}`];
  const spans: Span[] = [d.span, ...d.secondary.map((l) => l.span)].filter((s): s is Span => s !== undefined);
  const gutter = Math.max(1, ...spans.map((s) => String(lineCol(s.file, s.start).line).length));
  const pad = " ".repeat(gutter);
  if (d.span) {
    out.push(`${pad}${blue("-->")} ${location(d.span)}`);
    out.push(`${pad} |`);
    out.push(...snippet(d.span, "^", d.label, gutter, d.severity === "error" ? red : yellow));
  }
  for (const l of d.secondary) out.push(...secondary(l, d.span, gutter, blue));
  if (d.expected !== undefined || d.found !== undefined || d.notes.length || d.help) out.push(`${pad} |`);
  if (d.expected !== undefined) out.push(`${pad} = expected: ${escapeText(d.expected)}`);
  if (d.found !== undefined) out.push(`${pad} =    found: ${escapeText(d.found)}`);
  for (const n of d.notes) out.push(`${pad} = note: ${escapeText(n)}`);
  if (d.help) out.push(`${pad} = help: ${escapeText(d.help)}`);
  return out.join("\n");
}

function secondary(l: Label, primary: Span | undefined, gutter: number, color: (s: string) => string): string[] {
  const pad = " ".repeat(gutter);
  const head = primary && primary.file === l.span.file ? [`${pad} |`] : [`${pad}${color("::: ")}${location(l.span)}`];
  if (primary && primary.file === l.span.file) head.push(`${pad}${color("...")} ${location(l.span)}`);
  return [...head, ...snippet(l.span, "-", l.message, gutter, color)];
}

export function renderDiagnostics(ds: readonly Diagnostic[], opts: RenderOptions = {}): string {
  const errors = ds.filter((d) => d.severity === "error").length;
  const body = ds.map((d) => renderDiagnostic(d, opts)).join("\n\n");
  const tail = errors ? `\n\n${errors} error${errors === 1 ? "" : "s"}` : "";
  return body + tail;
}

/** A user error as the CLI prints it: one `error:` line (more when the message lists problems). */
export function renderUserError(err: UserError): string {
  return `error: ${err.message}`;
}

export interface JsonSpan {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

function jsonSpan(s: Span): JsonSpan {
  const a = lineCol(s.file, s.start);
  const b = lineCol(s.file, s.end);
  return { file: s.file.path, line: a.line, col: a.col, endLine: b.line, endCol: b.col };
}

export function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  return {
    code: d.code,
    severity: d.severity,
    title: CODES[d.code].title,
    message: d.message,
    span: d.span ? jsonSpan(d.span) : null,
    label: d.label ?? null,
    secondary: d.secondary.map((l) => ({ span: jsonSpan(l.span), message: l.message })),
    expected: d.expected ?? null,
    found: d.found ?? null,
    notes: d.notes,
    help: d.help ?? null,
  };
}

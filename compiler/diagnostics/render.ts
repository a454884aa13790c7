// Renders diagnostics rustc-style (file:line:col, the source line, carets under the span) or as JSON.
import type { Diagnostic, Label } from "./diagnostic.js";
import { lineCol, lineText, type Span } from "./source.js";
import { CODES } from "./codes.js";

export interface RenderOptions {
  color?: boolean;
}

const paint = (on: boolean, code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export function location(span: Span): string {
  const { line, col } = lineCol(span.file, span.start);
  return `${span.file.path}:${line}:${col}`;
}

function snippet(span: Span, mark: string, text: string | undefined, gutter: number, color: (s: string) => string): string[] {
  const start = lineCol(span.file, span.start);
  const end = lineCol(span.file, Math.max(span.start, span.end - 1));
  const src = lineText(span.file, start.line);
  const lastCol = end.line === start.line ? end.col : src.length;
  const width = Math.max(1, lastCol - start.col + 1);
  const pad = " ".repeat(gutter);
  const num = String(start.line).padStart(gutter);
  const underline = " ".repeat(start.col - 1) + color(mark.repeat(width) + (text ? ` ${text}` : ""));
  return [`${num} | ${src}`, `${pad} | ${underline}`];
}

export function renderDiagnostic(d: Diagnostic, opts: RenderOptions = {}): string {
  const on = opts.color ?? false;
  const red = paint(on, "1;31");
  const yellow = paint(on, "1;33");
  const blue = paint(on, "1;34");
  const bold = paint(on, "1");
  const head = d.severity === "error" ? red(`error[${d.code}]`) : yellow(`warning[${d.code}]`);
  const out: string[] = [`${head}${bold(`: ${d.message}`)}`];
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
  if (d.expected !== undefined) out.push(`${pad} = expected: ${d.expected}`);
  if (d.found !== undefined) out.push(`${pad} =    found: ${d.found}`);
  for (const n of d.notes) out.push(`${pad} = note: ${n}`);
  if (d.help) out.push(`${pad} = help: ${d.help}`);
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

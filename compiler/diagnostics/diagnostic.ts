// Diagnostics are data: a code, a primary span, labelled secondary spans, expected/found and help.
// They are rendered once (render.ts), to a terminal or to JSON.
import type { Span } from "./source.js";
import type { DiagnosticCode } from "./codes.js";

export interface Label {
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  message: string;
  /** The place the error is about; absent only for errors with no source (a missing file). */
  span?: Span;
  /** Text under the primary caret. */
  label?: string;
  /** Other places that explain the error (where a skip was saved, where a block was called). */
  secondary: Label[];
  expected?: string;
  found?: string;
  notes: string[];
  help?: string;
}

export interface DiagnosticInit {
  span?: Span;
  label?: string;
  secondary?: Label[];
  expected?: string;
  found?: string;
  notes?: string[];
  help?: string;
  severity?: "error" | "warning";
}

const sameSpan = (a: Span, b: Span) => a.file === b.file && a.start === b.start && a.end === b.end;

/** A diagnostic; a secondary label on the primary span itself (or on a place already labelled)
 *  would only repeat it, so it is dropped. */
export function diag(code: DiagnosticCode, message: string, init: DiagnosticInit = {}): Diagnostic {
  const secondary: Label[] = [];
  for (const l of init.secondary ?? []) {
    if (init.span && sameSpan(l.span, init.span)) continue;
    if (secondary.some((s) => sameSpan(s.span, l.span))) continue;
    secondary.push(l);
  }
  return {
    code,
    severity: init.severity ?? "error",
    message,
    span: init.span,
    label: init.label,
    secondary,
    expected: init.expected,
    found: init.found,
    notes: init.notes ?? [],
    help: init.help,
  };
}

/** Thrown by stages that cannot go on; carries every diagnostic found so far. */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "CompileError";
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

// `--set key=value` overrides: each is parsed as a .unet expression of literals in a synthetic
// source named `--set`, so a bad value gets the same located diagnostic as a bad spec.
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { makeSource, type Span } from "../diagnostics/source.js";
import type { Expr } from "../front/ast.js";
import { parseExpressionIn } from "../front/parse.js";
import type { Override } from "./elaborate.js";
import { bool, float, int, list, NONE, str, type Value } from "./values.js";

export function literal(e: Expr): Value | { error: Span } {
  switch (e.kind) {
    case "num":
      return e.isInt ? int(e.value) : float(e.value);
    case "str":
      return str(e.value);
    case "bool":
      return bool(e.value);
    case "none":
      return NONE;
    case "unary":
      if (e.op === "-" && e.operand.kind === "num") return e.operand.isInt ? int(-e.operand.value) : float(-e.operand.value);
      return { error: e.span };
    case "list": {
      const items: Value[] = [];
      for (const i of e.items) {
        const v = literal(i);
        if ("error" in v) return v;
        items.push(v);
      }
      return list(items, e.span);
    }
    case "var":
      // A bare word reads as a string, so `--set norm=group` works without shell quoting.
      return str(e.name);
    default:
      return { error: e.span };
  }
}

/** Parses `key=value`. Every span is in one synthetic source `--set` holding the whole text. */
export function parseOverride(text: string): { override?: Override; diagnostics: Diagnostic[] } {
  const file = makeSource("--set", text);
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  const whole: Span = { file, start: 0, end: text.length };
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key.trim())) {
    return { diagnostics: [diag("E0202", `\`--set\` takes \`key=value\`, found \`${text}\``, { span: whole, help: "for example `--set attn_start=2` or `--set nfs=[16,32,64]`" })] };
  }
  const valueText = text.slice(eq + 1);
  const valueSpan: Span = { file, start: eq + 1, end: Math.max(eq + 2, text.length) };
  const help = "values are numbers, strings, true/false, or lists like [16,32,64]";
  // A bare word is a string even when it is a keyword of the language (`--set emb_at=input`).
  const word = valueText.trim();
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(word) && !["true", "false", "none"].includes(word)) {
    return { override: { key: key.trim(), value: str(word), span: whole, keySpan: { file, start: 0, end: eq } }, diagnostics: [] };
  }
  // The key is blanked out (whitespace is skipped), so token offsets are offsets into the whole text.
  const parsed = valueText.trim() === "" ? undefined : parseExpressionIn(file, " ".repeat(eq + 1) + valueText);
  if (!parsed) return { diagnostics: [diag("E0202", `cannot read the value of \`--set ${key}\``, { span: valueSpan, help })] };
  const { expr } = parsed;
  if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics };
  const v = expr ? literal(expr) : { error: valueSpan };
  if ("error" in v) return { diagnostics: [diag("E0202", `the value of \`--set ${key}\` must be a literal`, { span: v.error, help })] };
  return { override: { key: key.trim(), value: v, span: whole, keySpan: { file, start: 0, end: eq } }, diagnostics: [] };
}

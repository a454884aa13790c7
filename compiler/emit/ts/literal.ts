// Plain data as a TypeScript literal that a person can read and a diff can follow: small arrays
// and objects on one line, larger ones one element per line, multi-line strings (WGSL) as
// template literals, keys unquoted where they are identifiers. Output depends only on the value
// (keys in insertion order), so a generated module is byte-for-byte reproducible.

export type Literal = string | number | boolean | null | undefined | readonly Literal[] | { readonly [key: string]: Literal };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const INLINE_WIDTH = 140;

const key = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));

function number(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot write ${n} as a literal`);
  return Object.is(n, -0) ? "0" : String(n);
}

function string(s: string): string {
  if (!s.includes("\n")) return JSON.stringify(s);
  return `\`${s.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${")}\``;
}

const entries = (o: { readonly [key: string]: Literal }) => Object.entries(o).filter(([, v]) => v !== undefined);

/** One line, or undefined when the value holds a multi-line string. */
function inline(v: Literal): string | undefined {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return number(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return v.includes("\n") ? undefined : string(v);
  const parts: string[] = [];
  const list = Array.isArray(v) ? (v as readonly Literal[]) : undefined;
  for (const item of list ?? entries(v as { readonly [key: string]: Literal })) {
    const [k, value] = list ? [undefined, item as Literal] : (item as [string, Literal]);
    const text = inline(value);
    if (text === undefined) return undefined;
    parts.push(k === undefined ? text : `${key(k)}: ${text}`);
  }
  if (list) return `[${parts.join(", ")}]`;
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}

/**
 * The value on lines indented `indent` spaces; its first line follows `lead` characters already
 * written (`name = `, `key: `), which count against the line width.
 */
export function literal(v: Literal, indent = 0, lead = 0): string {
  const one = inline(v);
  const isPrimitiveArray = Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null);
  if (one !== undefined && (indent + lead + one.length <= INLINE_WIDTH || isPrimitiveArray)) return one;
  if (typeof v === "string") return string(v);
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(v)) return `[\n${(v as readonly Literal[]).map((x) => `${pad}${literal(x, indent + 2)},\n`).join("")}${" ".repeat(indent)}]`;
  const lines = entries(v as { readonly [key: string]: Literal }).map(([k, x]) => `${pad}${key(k)}: ${literal(x, indent + 2, key(k).length + 2)},\n`);
  return `{\n${lines.join("")}${" ".repeat(indent)}}`;
}

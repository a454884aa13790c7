// `unetc ablate --grid key=v1,v2,...`: parsing the axes, expanding their Cartesian product into
// variants (first axis slowest, as Hydra's multirun) and planning one run folder per variant and seed.
// Values stay raw .unet literal texts; each becomes a `--set key=value` and is checked there.
//
// Folder names: a variant's `dir` is `key-value_key-value` when every value is plain (lowercase
// letters, digits, dots), which reads back unambiguously (keys hold no `-`, plain values hold neither
// `-` nor `_`) and is safe on case-insensitive file systems. Any other value (a list, a quoted string,
// a negative number, an uppercase word) is slugged lossily and the folder gets `+` and a hash of the
// id; `+` never occurs in a plain name, so a hashed folder cannot equal a plain one.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { UsageError } from "../../compiler/diagnostics/user-error.js";

/** A malformed --grid: a usage error (exit 2), as commander's own argument errors. */
export class GridError extends UsageError {}

export interface GridAxis {
  readonly key: string;
  /** Raw literal texts, trimmed, in the order given. */
  readonly values: readonly string[];
}

export interface Variant {
  /** `sets` joined by ","; "" for the baseline (no axes). */
  readonly id: string;
  /** For people: `attn_chans=0 norm=group`, or "baseline". */
  readonly label: string;
  /** A folder name, unique per id (see the file header). */
  readonly dir: string;
  /** `key=value` per axis, in axis order: what `--set` takes. */
  readonly sets: readonly string[];
}

export interface PlannedRun {
  readonly variant: Variant;
  readonly seed: number;
  readonly dir: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLOSERS: Record<string, string> = { "[": "]", "(": ")", "{": "}" };

/**
 * Splits `text` at commas outside brackets and double-quoted strings. Returns the pieces with
 * their start offsets, or a description of what is unbalanced.
 */
function splitTopLevel(text: string): { parts: { text: string; start: number }[] } | { error: string } {
  const parts: { text: string; start: number }[] = [];
  const open: { ch: string; at: number }[] = [];
  let quoteAt = -1;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoteAt >= 0) {
      if (ch === '"') quoteAt = -1;
      continue;
    }
    if (ch === '"') quoteAt = i;
    else if (ch in CLOSERS) open.push({ ch, at: i });
    else if (ch === "]" || ch === ")" || ch === "}") {
      const top = open.pop();
      if (!top) return { error: `unmatched "${ch}"` };
      if (CLOSERS[top.ch] !== ch) return { error: `"${top.ch}" closed by "${ch}"` };
    } else if (ch === "," && open.length === 0) {
      parts.push({ text: text.slice(start, i), start });
      start = i + 1;
    }
  }
  if (quoteAt >= 0) return { error: "unterminated string (a value opens a \" it never closes)" };
  if (open.length) return { error: `unclosed "${open[open.length - 1].ch}"` };
  parts.push({ text: text.slice(start), start });
  return { parts };
}

/** Whitespace outside strings does not change a literal: `[16, 32]` and `[16,32]` are one value. */
function canonical(value: string): string {
  return value.replace(/("[^"]*")|\s+/g, (_m, str: string | undefined) => str ?? "");
}

/** Parses one `--grid key=v1,v2,...`; commas inside brackets and strings belong to the value. */
export function parseGridArg(text: string): GridAxis {
  const fail = (what: string): never => {
    throw new GridError(`--grid ${text}: ${what}`);
  };
  const eq = text.indexOf("=");
  if (eq < 0) fail("expected key=v1,v2,... (for example --grid attn_chans=0,8,16)");
  const key = text.slice(0, eq).trim();
  if (key === "") fail("no parameter name before \"=\"");
  if (!IDENT.test(key)) fail(`"${key}" is not a parameter name (letters, digits and _, not starting with a digit)`);
  const rest = text.slice(eq + 1);
  if (rest.trim() === "") fail("no values");
  const split = splitTopLevel(rest);
  if ("error" in split) return fail(split.error);
  const values: string[] = [];
  const seen = new Map<string, string>();
  split.parts.forEach((p, k) => {
    const v = p.text.trim();
    if (v === "") fail(`value ${k + 1} is empty (two commas in a row, or a comma at an end)`);
    const c = canonical(v);
    const first = seen.get(c);
    if (first !== undefined) fail(first === v ? `"${v}" is listed twice` : `"${first}" and "${v}" are the same value`);
    seen.set(c, v);
    values.push(v);
  });
  return { key, values };
}

/** Throws when two axes vary the same parameter. */
export function checkAxes(axes: readonly GridAxis[]): void {
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new GridError(`--grid ${a.key}: given twice; put all its values in one --grid ${a.key}=v1,v2,...`);
    seen.add(a.key);
  }
}

const PLAIN_KEY = /^[a-z0-9_]+$/;
const PLAIN_VALUE = /^[a-z0-9.]+$/;
/** Longest folder name before the hash suffix (file systems allow 255 bytes). */
const MAX_SLUG = 120;

function slugValue(v: string): string {
  const s = v
    .toLowerCase()
    .replace(/["[\](){}]/g, "")
    .replace(/[^a-z0-9._]+/g, ".")
    .replace(/^\.+|\.+$/g, "");
  return s === "" ? "v" : s;
}

/** The folder name of a variant with these `[key, value]` pairs (see the file header). */
export function variantDir(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "baseline";
  const plain = pairs.every(([k, v]) => PLAIN_KEY.test(k) && PLAIN_VALUE.test(v));
  const slug = pairs.map(([k, v]) => `${k.toLowerCase()}-${plain ? v : slugValue(v)}`).join("_");
  if (plain && slug.length <= MAX_SLUG) return slug;
  const id = pairs.map(([k, v]) => `${k}=${v}`).join(",");
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 10);
  return `${slug.slice(0, MAX_SLUG)}+${hash}`;
}

function makeVariant(pairs: readonly (readonly [string, string])[]): Variant {
  const sets = pairs.map(([k, v]) => `${k}=${v}`);
  return {
    id: sets.join(","),
    label: sets.length ? sets.join(" ") : "baseline",
    dir: variantDir(pairs),
    sets,
  };
}

/** The Cartesian product of the axes, first axis varying slowest; one baseline variant for no axes. */
export function expandGrid(axes: readonly GridAxis[]): Variant[] {
  checkAxes(axes);
  let combos: (readonly [string, string])[][] = [[]];
  for (const a of axes) {
    if (a.values.length === 0) throw new GridError(`--grid ${a.key}=: no values`);
    combos = combos.flatMap((c) => a.values.map((v) => [...c, [a.key, v] as const]));
  }
  const variants = combos.map(makeVariant);
  const byDir = new Map<string, string>();
  for (const v of variants) {
    const other = byDir.get(v.dir);
    // Unreachable unless a 40-bit hash collides; checked so that two runs never share a folder.
    if (other !== undefined) throw new GridError(`variants "${other}" and "${v.id}" map to one folder ${v.dir}`);
    byDir.set(v.dir, v.id);
  }
  return variants;
}

/** `count` consecutive seeds from `base`. */
export function seedList(base: number, count: number): number[] {
  if (!Number.isSafeInteger(base)) throw new GridError(`--seed ${base}: expected an integer`);
  if (!Number.isSafeInteger(count) || count < 1) throw new GridError(`--seeds ${count}: expected a positive integer`);
  return Array.from({ length: count }, (_, k) => base + k);
}

/** One run per variant and seed, variant-major: `root/<variant.dir>/seed-<seed>`. */
export function planRuns(variants: readonly Variant[], seeds: readonly number[], root: string): PlannedRun[] {
  return variants.flatMap((variant) => seeds.map((seed) => ({ variant, seed, dir: join(root, variant.dir, `seed-${seed}`) })));
}

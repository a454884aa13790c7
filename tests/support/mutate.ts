// Seeded mutations of spec text for the property test (tests/diagnostics/mutation.test.ts).
// Tokens come from a simple regex, not the real lexer, so mutants also break what the lexer
// would take for granted (a string cut in half, a number glued to a name).

import { Rng } from "../../runtime/diffusion/rng.js";

/** Seeded uniform [0, 1): the runtime's generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

/** The seed of mutant `index` under `seed`, so one mutant can be rebuilt alone. */
export function mutantSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

export interface Token {
  text: string;
  start: number;
  end: number;
  kind: "ident" | "number" | "string" | "punct";
}

const TOKEN = /(#[^\n]*)|("[^"\n]*")|([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(\|>|==|!=|<=|>=|\*\*|\/\/|\S)/g;

/** Tokens outside comments. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    if (m[1] !== undefined) continue;
    const kind = m[2] !== undefined ? "string" : m[3] !== undefined ? "ident" : m[4] !== undefined ? "number" : "punct";
    out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, kind });
  }
  return out;
}

export const MUTATIONS = ["delete", "duplicate", "swap", "truncate", "garbage", "number", "ident"] as const;
export type MutationKind = (typeof MUTATIONS)[number];

export interface Mutant {
  kind: MutationKind;
  /** What was done, in words, for a failure report. */
  what: string;
  text: string;
}

const NUMBERS = ["0", "-1", "7", "1000000"];

/** Printable and non-printable characters, a NUL, bytes that look like broken UTF-8 once decoded
 *  (U+FFFD, lone surrogates), a BOM, a line separator, CR, and a few multi-byte characters. */
const GARBAGE = [
  ..."!$&'@\\^`~{}[]()<>|;:,.?/*+-=%\"#_0123456789azAZ",
  "\u0000", "\u0001", "\u0007", "\u0008", "\u000b", "\u000c", "\u001b", "\u007f", "\r", "\t", "\n",
  "\u00e9", "\u00ff", "\ufffd", "\ud800", "\udfff", "\ufeff", "\u2028", "\u00a0", "\u200b", "\u{1f600}", "\u4e2d",
];

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const show = (s: string) => JSON.stringify(s);
const where = (text: string, offset: number) => {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `${line}:${offset - before.lastIndexOf("\n")}`;
};

/** One mutant of `text`, chosen by `rng`. */
export function mutate(text: string, rng: () => number): Mutant {
  const toks = tokenize(text);
  let kind = pick(rng, MUTATIONS);
  const numbers = toks.filter((t) => t.kind === "number");
  const idents = toks.filter((t) => t.kind === "ident");
  if (kind === "number" && numbers.length === 0) kind = "garbage";
  if (kind === "ident" && idents.length < 2) kind = "garbage";
  if (toks.length < 2 && (kind === "delete" || kind === "duplicate" || kind === "swap")) kind = "truncate";
  const splice = (start: number, end: number, insert: string) => text.slice(0, start) + insert + text.slice(end);
  switch (kind) {
    case "delete": {
      const t = pick(rng, toks);
      return { kind, what: `delete ${show(t.text)} at ${where(text, t.start)}`, text: splice(t.start, t.end, "") };
    }
    case "duplicate": {
      const t = pick(rng, toks);
      return { kind, what: `duplicate ${show(t.text)} at ${where(text, t.start)}`, text: splice(t.end, t.end, ` ${t.text}`) };
    }
    case "swap": {
      const i = Math.floor(rng() * (toks.length - 1));
      const [a, b] = [toks[i], toks[i + 1]];
      const between = text.slice(a.end, b.start);
      return { kind, what: `swap ${show(a.text)} and ${show(b.text)} at ${where(text, a.start)}`, text: splice(a.start, b.end, b.text + between + a.text) };
    }
    case "truncate": {
      const at = Math.floor(rng() * text.length);
      return { kind, what: `truncate at offset ${at} (${where(text, at)})`, text: text.slice(0, at) };
    }
    case "garbage": {
      const at = Math.floor(rng() * (text.length + 1));
      const n = 1 + Math.floor(rng() * 6);
      const junk = Array.from({ length: n }, () => pick(rng, GARBAGE)).join("");
      return { kind, what: `insert ${show(junk)} at ${where(text, at)}`, text: splice(at, at, junk) };
    }
    case "number": {
      const t = pick(rng, numbers);
      const v = pick(rng, NUMBERS.filter((n) => n !== t.text));
      return { kind, what: `replace number ${t.text} by ${v} at ${where(text, t.start)}`, text: splice(t.start, t.end, v) };
    }
    case "ident": {
      const t = pick(rng, idents);
      const others = [...new Set(idents.map((x) => x.text))].filter((x) => x !== t.text);
      const v = pick(rng, others);
      return { kind, what: `replace name ${t.text} by ${v} at ${where(text, t.start)}`, text: splice(t.start, t.end, v) };
    }
  }
}

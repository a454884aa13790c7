// Property test: thousands of seeded mutations of every spec under models/ (deleted, duplicated and
// swapped tokens, truncation, garbage bytes, other numbers, other names) go through checkSpec.
// Each must return without throwing, within 5 s, and be either valid (a graph, no errors) or carry
// at least one error located at a real file:line:col. A failure prints the seed, the mutation and
// the mutant, so `MUTATION_SEED=<seed> MUTANT=<index> npx vitest run tests/diagnostics/mutation`
// replays exactly that one.
//
// Library files (models/std/*.unet) define blocks but no model; their mutants are checked with a
// model that imports them appended (the importing file minus its `version` and that `import`
// line), so the mutated blocks are elaborated, not only parsed.
//
// Knobs: MUTANTS (default 3000: 15-50 s on two slow cores), MUTATION_SEED, MUTANT (one index).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSpec, type CheckResult } from "../../compiler/check/check.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { lineCol, lineText, type Span } from "../../compiler/diagnostics/source.js";
import { mulberry32, mutantSeed, mutate, MUTATIONS, type Mutant, type MutationKind } from "../support/mutate.js";

const SEED = Number(process.env.MUTATION_SEED ?? 0x5eed);
const COUNT = Number(process.env.MUTANTS ?? 3000);
const ONLY = process.env.MUTANT === undefined ? undefined : Number(process.env.MUTANT);
const HANG_MS = 5000;
/** Codes that may have no place in a file. */
const FILE_LEVEL = new Set(["E0900", "E0107"]);

function unetFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? unetFiles(p) : f.endsWith(".unet") ? [p] : [];
    });
}

interface Target {
  path: string;
  /** The mutated part. */
  text: string;
  /** Appended after the mutant: a model that uses a library's blocks ("" for model files). */
  driver: string;
}

const IMPORT = /^\s*import\s+"([^"]+)"\s*$/;

function targets(): Target[] {
  const files = unetFiles("models");
  const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
  return files.map((path) => {
    const text = texts.get(path)!;
    if (/^\s*model\s/m.test(text)) return { path, text, driver: "" };
    const lib = path.replace(/^models\//, "").replace(/\.unet$/, "");
    const user = files.find((f) => /^\s*model\s+\w+\s*\(/m.test(texts.get(f)!) && texts.get(f)!.split("\n").some((l) => IMPORT.exec(l)?.[1] === lib));
    if (!user) throw new Error(`no model in models/ imports ${path}; the mutation test needs one to drive it`);
    const driver = texts.get(user)!.split("\n").filter((l) => !/^\s*version\b/.test(l) && IMPORT.exec(l)?.[1] !== lib);
    return { path, text, driver: `\n# --- driver: ${user} ---\n${driver.join("\n")}` };
  });
}

/** What is wrong with a diagnostic's place, or undefined when it points inside its file. */
function badSpan(s: Span, what: string): string | undefined {
  const lines = s.file.lineStarts.length;
  if (!(s.start >= 0 && s.end >= s.start && s.end <= s.file.text.length + 1)) return `${what}: offsets ${s.start}..${s.end} outside ${s.file.path} (${s.file.text.length} chars)`;
  const { line, col } = lineCol(s.file, s.start);
  if (line < 1 || line > lines) return `${what}: line ${line} outside ${s.file.path} (${lines} lines)`;
  if (col < 1 || col > lineText(s.file, line).length + 2) return `${what}: column ${col} outside line ${line} of ${s.file.path}`;
  return undefined;
}

/** Why a check result breaks the property, or undefined when it holds. */
function violation(r: CheckResult, text: string, rootPath: string): string | undefined {
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length === 0) return r.graph ? undefined : "no error diagnostic, but no graph either";
  if (r.graph) return "a graph was returned together with errors";
  for (const d of r.diagnostics) {
    const spans: [Span, string][] = [...(d.span ? [[d.span, `${d.code} primary`] as [Span, string]] : []), ...d.secondary.map((l): [Span, string] => [l.span, `${d.code} secondary`])];
    for (const [s, what] of spans) {
      const bad = badSpan(s, what);
      if (bad) return bad;
      if (s.file.path === rootPath && s.file.text !== text) return `${what}: span into a different text of ${rootPath}`;
    }
    if (/\bundefined\b|\bNaN\b|\[object Object\]/.test(d.message + (d.label ?? "") + (d.help ?? ""))) return `${d.code} message leaks an internal value: ${d.message}`;
  }
  const located = (d: Diagnostic) => d.span !== undefined || FILE_LEVEL.has(d.code);
  if (!errors.some(located)) return `no error has a location: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`;
  return undefined;
}

interface Failure {
  index: number;
  target: string;
  mutant: Mutant;
  problem: string;
}

function report(f: Failure, text: string): string {
  return [
    `mutant ${f.index} of ${f.target} (replay: MUTATION_SEED=${SEED} MUTANT=${f.index}): ${f.mutant.kind}: ${f.mutant.what}`,
    `  problem: ${f.problem}`,
    "  --- mutant text ---",
    ...text.split("\n").map((l) => `  | ${JSON.stringify(l).slice(1, -1)}`),
  ].join("\n");
}

describe("mutated specs never crash, hang, or fail without a located error", () => {
  const all = targets();

  it("checks every unmutated target as valid (the harness itself is sound)", () => {
    for (const t of all) {
      const r = checkSpec(t.path, { text: t.text + t.driver });
      expect(renderDiagnostics(r.diagnostics), t.path).toBe("");
      expect(r.graph, t.path).toBeDefined();
    }
  });

  it(`${ONLY === undefined ? COUNT : 1} mutants`, () => {
    const failures: Failure[] = [];
    const byKind = Object.fromEntries(MUTATIONS.map((k) => [k, { n: 0, invalid: 0 }])) as Record<MutationKind, { n: number; invalid: number }>;
    let slowest = { ms: 0, index: -1 };
    const started = performance.now();
    const indices = ONLY === undefined ? Array.from({ length: COUNT }, (_, i) => i) : [ONLY];
    for (const index of indices) {
      const target = all[index % all.length];
      const mutant = mutate(target.text, mulberry32(mutantSeed(SEED, index)));
      const text = mutant.text + target.driver;
      const t0 = performance.now();
      let problem: string | undefined;
      let result: CheckResult | undefined;
      try {
        result = checkSpec(target.path, { text });
        problem = violation(result, text, target.path);
      } catch (err) {
        problem = `threw ${(err as Error)?.stack ?? String(err)}`;
      }
      const ms = performance.now() - t0;
      if (ms > slowest.ms) slowest = { ms, index };
      if (ms > HANG_MS) problem = `${problem ? `${problem}; ` : ""}took ${ms.toFixed(0)} ms (a hang: the limit is ${HANG_MS} ms)`;
      // The parser is a shared singleton: every 50th mutant is checked twice to catch state leaking between runs.
      if (!problem && result && index % 50 === 0) {
        const again = checkSpec(target.path, { text });
        if (renderDiagnostics(again.diagnostics) !== renderDiagnostics(result.diagnostics)) problem = "a second check of the same text gave other diagnostics";
      }
      byKind[mutant.kind].n++;
      if (result && !result.graph) byKind[mutant.kind].invalid++;
      if (problem) {
        const f = { index, target: target.path, mutant, problem };
        failures.push(f);
        if (failures.length <= 5) console.error(report(f, text));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const kinds = MUTATIONS.map((k) => `${k} ${byKind[k].n} (${byKind[k].invalid} invalid)`).join(", ");
    console.log(`mutation test: ${indices.length} mutants of ${all.length} specs, seed ${SEED}, ${seconds.toFixed(1)} s, slowest ${slowest.ms.toFixed(0)} ms (#${slowest.index}); ${kinds}`);
    expect(failures.map((f) => `#${f.index} ${f.target}: ${f.mutant.what}: ${f.problem.split("\n")[0]}`)).toEqual([]);
  });
});

// Inputs no token-level mutation produces. Deep nesting once overflowed the recursive parser and
// checker (a RangeError out of checkSpec from about 125 nested parentheses); now the parser stops
// at MAX_PARSE_DEPTH and the checker at MAX_EVAL_DEPTH with a located E0604, and long
// left-associative chains are evaluated with a loop.
describe("pathological inputs", () => {
  const PATH = "tests/cases/errors/inline-pathological.unet";
  const model = (body: string) => `version 1\nimport "std/lesson"\nmodel tiny(size: int = 8) {\n  input x: image[1, size, size]\n${body}\n  return conv2d(x, 1) as conv_out\n}\n`;

  it("a long flat spec (3000 statements) checks quickly", () => {
    const t0 = performance.now();
    const r = checkSpec(PATH, { text: model(Array.from({ length: 3000 }, (_, i) => `  n${i} = ${i} * 2 + 1`).join("\n")) });
    expect(renderDiagnostics(r.diagnostics)).toBe("");
    expect(performance.now() - t0).toBeLessThan(HANG_MS);
  });

  it("a file of garbage bytes gets located errors", () => {
    const rng = mulberry32(SEED);
    const text = Array.from({ length: 2000 }, () => String.fromCharCode(Math.floor(rng() * 0x3000))).join("");
    const r = checkSpec(PATH, { text });
    expect(violation(r, text, PATH)).toBeUndefined();
  });

  // Each nests (or chains) far past any limit; each must end in one located E0604, quickly.
  const deep: [string, string][] = [
    ["2000 nested parentheses", `  n = ${"(".repeat(2000)}1${")".repeat(2000)}`],
    ["2000 nested lists", `  n = ${"[".repeat(2000)}1${"]".repeat(2000)}`],
    ["1000 nested `if`s", `${"  if true {\n".repeat(1000)}  n = 1\n${"  }\n".repeat(1000)}`],
    ["1000 `else if`s", `  if false { n = 0 }${" else if false { n = 0 }".repeat(1000)}`],
    ["2000 chained `**`", `  n = 1${" ** 1".repeat(2000)}`],
    ["2000 chained `?:`", `  n = ${"true ? 1 : ".repeat(2000)}1`],
    ["5000 unary `-`", `  n = ${"-".repeat(5000)}1`],
    ["5000 `not`s", `  n = ${"not ".repeat(5000)}true`],
    ["2000 chained `|>`", `  h = x${" |> silu()".repeat(2000)}`],
    ["a type nested 2000 deep", `  n = 1\n}\nblock b(l: ${"[".repeat(2000)}int${"]".repeat(2000)}) {\n  return l`],
  ];
  it.each(deep)("%s: one located E0604, no RangeError", (_what, body) => {
    const text = model(body);
    const t0 = performance.now();
    const r = checkSpec(PATH, { text });
    expect(performance.now() - t0).toBeLessThan(HANG_MS);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0604"]);
    expect(violation(r, text, PATH)).toBeUndefined();
  });

  it("a 50000-term sum has a value: long left-associative chains do not recurse", () => {
    const text = model(`  n = 1${" + 1".repeat(50000)}\n  require n == 50001 else "the sum is wrong"`);
    const r = checkSpec(PATH, { text });
    expect(renderDiagnostics(r.diagnostics)).toBe("");
    expect(r.graph).toBeDefined();
  });

  it("a huge `--set` stops at a limit in about a second, with one E0604", () => {
    const t0 = performance.now();
    const r = checkSpec("models/lesson/emb_unet.unet", { set: ["num_layers=5000"] });
    expect(performance.now() - t0).toBeLessThan(HANG_MS);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0604"]);
    expect(r.diagnostics[0].message).toContain("layers");
  });
});

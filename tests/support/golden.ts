// Golden error cases (Zig style): each tests/cases/errors/*.unet file is a malformed spec that ends
// with its expected diagnostics, as rendered for a terminal without colour, in a trailing comment:
//
//   # args: --set size=30            (optional first line: `--set K=V` and `--model NAME`, as the CLI)
//   version 1
//   ...the spec...
//
//   # expect:
//   # error[E0602]: the image size must be divisible by 2^(levels-1)
//   #  --> tests/cases/errors/027-require-size-set.unet:5:14
//   ...
//
// The block sits at the end, so removing it leaves every line number of the spec unchanged.
// `npx tsx tests/update-goldens.ts` rewrites the blocks from the compiler's current output.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { checkSpec, type CheckResult } from "../../compiler/check/check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";

export const CASES_DIR = "tests/cases/errors";
export const EXPECT_MARKER = "# expect:";

export interface GoldenCase {
  /** Relative to the repository root, as diagnostics display it (vitest runs from the root). */
  path: string;
  /** The file up to the `# expect:` line: what is checked. */
  spec: string;
  set: string[];
  model?: string;
  /** The golden rendering, or undefined when the file has no `# expect:` block yet. */
  expected?: string;
}

/** Every case file, sorted by name, with paths relative to `root`. */
export function listCases(root = process.cwd()): string[] {
  return readdirSync(join(root, CASES_DIR))
    .filter((f) => f.endsWith(".unet"))
    .sort()
    .map((f) => relative(root, join(root, CASES_DIR, f)));
}

/** Splits `--set a=1 --model m` (quotes allowed: `--set "nfs=[8, 16]"`) into options. */
function parseArgs(line: string, path: string): { set: string[]; model?: string } {
  const words = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  const out: { set: string[]; model?: string } = { set: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const value = words[++i];
    if (value === undefined) throw new Error(`${path}: \`${w}\` in \`# args:\` needs a value`);
    if (w === "--set") out.set.push(value);
    else if (w === "--model") out.model = value;
    else throw new Error(`${path}: unknown option \`${w}\` in \`# args:\` (only --set and --model)`);
  }
  return out;
}

export function parseCase(path: string, text: string): GoldenCase {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trimEnd() === EXPECT_MARKER);
  const specLines = at < 0 ? lines : lines.slice(0, at);
  const args = /^#\s*args:(.*)$/.exec(lines[0] ?? "");
  const opts = args ? parseArgs(args[1], path) : { set: [] };
  let expected: string | undefined;
  if (at >= 0) {
    const block = lines.slice(at + 1);
    while (block.length && block[block.length - 1] === "") block.pop();
    expected = block
      .map((l, i) => {
        if (l === "#") return "";
        if (l.startsWith("# ")) return l.slice(2);
        throw new Error(`${path}:${at + 2 + i}: a line of the \`# expect:\` block must start with \`# \``);
      })
      .join("\n");
  }
  return { path, spec: specLines.join("\n"), ...opts, expected };
}

export function readCase(path: string): GoldenCase {
  return parseCase(path, readFileSync(path, "utf8"));
}

/** Trailing spaces are not part of a golden: editors strip them. */
export function normalize(rendered: string): string {
  return rendered
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
}

export function runCase(c: GoldenCase): { result: CheckResult; rendered: string } {
  const result = checkSpec(c.path, { text: c.spec, set: c.set, model: c.model });
  return { result, rendered: normalize(renderDiagnostics(result.diagnostics, { color: false })) };
}

/** The case file with its `# expect:` block replaced by `rendered`. */
export function withExpectBlock(c: GoldenCase, rendered: string): string {
  const block = normalize(rendered)
    .split("\n")
    .map((l) => (l === "" ? "#" : `# ${l}`));
  return `${c.spec.trimEnd()}\n\n${EXPECT_MARKER}\n${block.join("\n")}\n`;
}

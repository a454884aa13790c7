// Golden error cases: every tests/cases/errors/*.unet is a malformed spec ending in the diagnostics
// it must produce (see tests/support/golden.ts for the format). A failing comparison prints the
// command that rewrites the goldens; review that diff as you would review a message change.
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { CODES, type DiagnosticCode } from "../../compiler/diagnostics/codes.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { lineCol, type Span } from "../../compiler/diagnostics/source.js";
import { listCases, readCase, runCase } from "../support/golden.js";

const cases = listCases();

/** Cases whose diagnostic deliberately has no place in a file, and why. None today: a mistake on
 *  the command line points into a synthetic `--set` or `--model` source. */
const FILE_LEVEL: Record<string, string> = {};

/** Codes no spec text or `--set` can produce; each is tested on its own below. */
const NOT_FROM_A_SPEC: DiagnosticCode[] = ["E0900"];

function checkSpanInside(s: Span, what: string): void {
  const { line, col } = lineCol(s.file, s.start);
  expect(s.start, `${what}: start offset`).toBeGreaterThanOrEqual(0);
  expect(s.end, `${what}: end offset`).toBeLessThanOrEqual(s.file.text.length + 1);
  expect(line, `${what}: line`).toBeLessThanOrEqual(s.file.lineStarts.length);
  expect(col, `${what}: column`).toBeGreaterThanOrEqual(1);
}

describe("golden error cases", () => {
  it("has at least 35 cases, named NNN-short-name.unet", () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    for (const c of cases) expect(basename(c)).toMatch(/^\d{3}-[a-z0-9]+(-[a-z0-9]+)*\.unet$/);
  });

  it.each(cases)("%s", (path) => {
    const c = readCase(path);
    expect(c.expected, `${path} has no \`# expect:\` block; run \`npx tsx tests/update-goldens.ts\``).toBeDefined();
    const { result, rendered } = runCase(c);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors.length, `${path} checks as valid; a golden error case must fail`).toBeGreaterThan(0);
    expect(result.graph).toBeUndefined();
    const name = basename(path, ".unet");
    for (const d of result.diagnostics) {
      if (!d.span) expect(FILE_LEVEL[name], `${d.code} "${d.message}" has no span`).toBeDefined();
      else checkSpanInside(d.span, `${d.code} primary`);
      for (const l of d.secondary) checkSpanInside(l.span, `${d.code} secondary "${l.message}"`);
    }
    expect(rendered, `rendered diagnostics of ${path} differ from its golden; if the change is intended, run \`npx tsx tests/update-goldens.ts\` and review the diff`).toBe(c.expected);
  });

  it("covers every diagnostic code a spec or `--set` can produce", () => {
    const seen = new Set<string>();
    for (const path of cases) for (const d of runCase(readCase(path)).result.diagnostics) seen.add(d.code);
    const missing = (Object.keys(CODES) as DiagnosticCode[]).filter((c) => !seen.has(c) && !NOT_FROM_A_SPEC.includes(c));
    expect(missing).toEqual([]);
  });
});

describe("file-level diagnostics", () => {
  it("a missing spec file is E0900 without a span, rendered without a location", () => {
    const r = checkSpec("tests/cases/errors/no-such-file.unet");
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d: Diagnostic) => d.code)).toEqual(["E0900"]);
    expect(r.diagnostics[0].span).toBeUndefined();
    expect(renderDiagnostics(r.diagnostics)).toBe(
      ["error[E0900]: no such file: tests/cases/errors/no-such-file.unet", "  |", "  = help: check the path; spec files end in .unet", "", "1 error"].join("\n"),
    );
  });

  it("a folder given as the spec is E0900", () => {
    const r = checkSpec("tests/cases/errors");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0900"]);
    expect(r.diagnostics[0].message).toContain("is a folder");
  });
});

// An unbalanced skip must name both places: where the `skip` fails and where the activation was
// saved or last taken (E0401), where the unused activation was saved and where the last `skip` is
// (E0402). These tests pin the lines, not only the rendered text.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { lineCol, type Span } from "../../compiler/diagnostics/source.js";

const PATH = "tests/cases/errors/inline-skip-balance.unet";

function check(text: string): Diagnostic[] {
  const r = checkSpec(PATH, { text });
  expect(r.graph).toBeUndefined();
  return r.diagnostics;
}

function at(s: Span): { file: string; line: number; col: number; text: string } {
  return { file: s.file.path, ...lineCol(s.file, s.start), text: s.file.text.slice(s.start, s.end) };
}

/** 1-based line of the first line of `text` that contains `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`no line contains ${marker}`);
  return i + 1;
}

/** Where `word` starts on the line that contains `marker`, as a span's `at()` reads it. */
function place(text: string, marker: string, word: string): { file: string; line: number; col: number; text: string } {
  const line = lineOf(text, marker);
  return { file: PATH, line, col: text.split("\n")[line - 1].indexOf(word) + 1, text: word };
}

const header = `version 1
import "std/lesson"
`;

describe("unbalanced skips name both places", () => {
  it("E0401: a skip with nothing left names itself and the skip that took the last save", () => {
    const text = `${header}
model tiny(size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, 8) as conv_in
  save h
  h = conv2d(concat(h, skip), 8) as up0
  h = conv2d(concat(h, skip), 8) as up1
  return conv2d(h, 1) as conv_out
}
`;
    const ds = check(text);
    expect(ds.map((d) => d.code)).toEqual(["E0401"]);
    const [d] = ds;
    expect(at(d.span!)).toEqual(place(text, "as up1", "skip"));
    expect(d.secondary).toHaveLength(1);
    expect(at(d.secondary[0].span)).toEqual(place(text, "as up0", "skip"));
    expect(d.secondary[0].message).toMatch(/taken here/);
  });

  it("E0402: an unused save names the save and the last skip", () => {
    const text = `${header}
model tiny(size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, 8) as conv_in
  save h
  h = conv2d(h, 16) as mid
  save h
  h = conv2d(concat(h, skip), 8) as up
  return conv2d(h, 1) as conv_out
}
`;
    const ds = check(text);
    expect(ds.map((d) => d.code)).toEqual(["E0402"]);
    const [d] = ds;
    // `skip` takes the most recent save (after `mid`), so the first one is left over.
    expect(at(d.span!)).toEqual(place(text, "save h", "save h"));
    expect(d.label).toContain("[8, 8, 8]");
    expect(d.secondary).toHaveLength(1);
    expect(at(d.secondary[0].span)).toEqual(place(text, "as up", "skip"));
  });

  it("E0402 in a loop: the save site inside the loop and the last skip of the up path", () => {
    const text = `${header}
model tiny(nfs: [int] = [8, 16], size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, nfs[0]) as conv_in
  downs: for i, nf in nfs {
    h = conv2d(h, nf) as conv
    save h
  }
  save h
  ups: for i, nf in reversed(nfs) {
    h = conv2d(concat(h, skip), nf) as conv
  }
  return conv2d(h, 1) as conv_out
}
`;
    const ds = check(text);
    expect(ds.map((d) => d.code)).toEqual(["E0402"]);
    const [d] = ds;
    expect(at(d.span!).line).toBe(lineOf(text, "save h"));
    expect(d.label).toContain("downs.0");
    expect(at(d.secondary[0].span).line).toBe(lineOf(text, "concat(h, skip)"));
  });

  // When the failing `skip` sits in a loop, the skip that took the last activation is the same
  // `skip`: the second place is then the `save` of the activation its earlier iteration took.
  it("E0401 in a loop names a second place, not the failing skip again", () => {
    const text = `${header}
model tiny(size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, 8) as conv_in
  save h
  ups: for i in range(2) {
    h = conv2d(concat(h, skip), 8) as conv
  }
  return conv2d(h, 1) as conv_out
}
`;
    const [d] = check(text);
    expect(d.code).toBe("E0401");
    expect(d.secondary.map((l) => at(l.span).line)).not.toContain(at(d.span!).line);
    expect(d.secondary.map((l) => at(l.span))).toEqual([place(text, "save h", "save h")]);
  });
});

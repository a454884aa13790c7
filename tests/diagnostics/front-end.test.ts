// Unit tests of the front end's small parts that goldens show only indirectly: how a source line is
// drawn (tabs, control characters, wide characters), which names "did you mean" offers, that a
// secondary label never repeats the primary place, and how syntax errors are placed and counted.
import { describe, expect, it } from "vitest";
import { diag } from "../../compiler/diagnostics/diagnostic.js";
import { displayLine, escapeText, renderDiagnostic } from "../../compiler/diagnostics/render.js";
import { makeSource } from "../../compiler/diagnostics/source.js";
import { nearNames, suggestionHelp } from "../../compiler/check/suggest.js";
import { parseSource } from "../../compiler/front/parse.js";

describe("source lines as drawn", () => {
  it("expands tabs to the next multiple of 4 and maps every code unit to its column", () => {
    const { shown, cols } = displayLine("\tab\tc");
    expect(shown).toBe("    ab  c");
    expect(cols).toEqual([0, 4, 5, 6, 8, 9]);
  });

  it("draws control characters as one visible cell and wide characters as two", () => {
    const { shown, cols } = displayLine("a\u0000b\u007f\u4e2dc\u{1f600}d");
    expect(shown).toBe("a\u2400b\u2421\u4e2dc\u{1f600}d");
    // a ␀ b ␡ 中(2) c 😀(2 cells, 2 code units) d
    expect(cols).toEqual([0, 1, 2, 3, 4, 6, 7, 7, 9, 10]);
  });

  it("escapes non-printable characters in message text", () => {
    expect(escapeText("a\u0000b\tc\u200b")).toBe("a\\u0000b\\u0009c\\u200b");
    expect(escapeText("plain `text` and \u00e9")).toBe("plain `text` and \u00e9");
  });

  it("puts carets under a span that follows a tab", () => {
    const file = makeSource("t.unet", "x\t= oops\n");
    const out = renderDiagnostic(diag("E0101", "unknown name `oops`", { span: { file, start: 4, end: 8 }, label: "here" }));
    const lines = out.split("\n");
    const src = lines.find((l) => l.includes("oops") && l.includes("|"))!;
    const carets = lines.find((l) => l.includes("^"))!;
    expect(carets.indexOf("^")).toBe(src.indexOf("oops"));
  });
});

describe("did you mean", () => {
  it("offers no one-letter name for another one-letter name", () => {
    expect(nearNames("y", ["x", "h", "n"])).toEqual([]);
    expect(nearNames("X", ["x", "h"])).toEqual(["x"]);
  });

  it("offers close names and prefixes of three letters or more", () => {
    expect(nearNames("nf", ["nfs", "n"])).toEqual(["nfs"]);
    expect(nearNames("strid", ["stride", "k"])).toEqual(["stride"]);
    expect(nearNames("attn", ["attn_chans", "attn_start", "size"])).toEqual(["attn_chans", "attn_start"]);
    expect(nearNames("ab", ["cd"])).toEqual([]);
  });

  it("words the help as a question", () => {
    expect(suggestionHelp("strid", ["stride"])).toBe("did you mean `stride`?");
    expect(suggestionHelp("attn", ["attn_chans", "attn_start"])).toBe("did you mean one of `attn_chans` or `attn_start`?");
    expect(suggestionHelp("zzz", ["stride"])).toBeUndefined();
  });
});

describe("secondary labels", () => {
  it("drops a label on the primary place and repeated labels", () => {
    const file = makeSource("t.unet", "a b c\n");
    const span = { file, start: 0, end: 1 };
    const other = { file, start: 2, end: 3 };
    const d = diag("E0401", "m", { span, secondary: [{ span, message: "again" }, { span: other, message: "one" }, { span: other, message: "two" }] });
    expect(d.secondary).toEqual([{ span: other, message: "one" }]);
  });
});

describe("syntax errors", () => {
  const codes = (text: string) => parseSource("t.unet", text).diagnostics.map((d) => `${d.code} ${d.message}`);

  it("an unterminated string is one error, and the rest of the file still parses", () => {
    const text = 'version 1\nmodel m() {\n  require true else "no end\n  return x\n}\nmodel n() { h = = 1 }\n';
    expect(codes(text)).toEqual(["E0003 unterminated string", "E0002 expected an expression, found `=`"]);
  });

  it("reports at most one error per line", () => {
    expect(codes("version 1\nmodel m() {\n  h = conv2d(h, 8,, stride = 1) as mid\n}\n")).toHaveLength(1);
  });

  it("a `//` comment line is one E0001 with a hint, and the file after it parses", () => {
    const r = parseSource("t.unet", "version 1\n// a comment\nmodel m() {\n  return x\n}\n");
    expect(r.diagnostics.map((d) => [d.code, d.help])).toEqual([["E0001", "comments start with `#`"]]);
    expect(r.ast.decls.map((d) => d.name.name)).toEqual(["m"]);
  });

  it("never says `EOF`", () => {
    for (const text of ["version 1\n}\n", "version 1\nmodel m() { return x }\n)\n", "version 1\nmodel m() {\n  h = f(\n", "version 1 2\n"]) {
      for (const m of codes(text)) expect(m).not.toMatch(/EOF/);
    }
  });

  it("a missing `)` is reported where its line ends, with the unclosed `(`", () => {
    const r = parseSource("t.unet", "version 1\nmodel m() {\n  h = f(x, 1\n  return h\n}\n");
    const [d] = r.diagnostics;
    expect(d.message).toBe("expected `)`, found `return`");
    expect(d.label).toBe("expected `)` here");
    expect(d.span!.start).toBe(r.source.text.indexOf("x, 1\n") + 4);
    expect(d.secondary.map((l) => [l.span.start, l.message])).toEqual([[r.source.text.indexOf("f(") + 1, "this `(` is not closed"]]);
  });
});

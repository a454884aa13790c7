// `--json` output: diagnosticToJson gives the code, message, spans as file:line:col ranges,
// labelled secondary spans, expected/found, notes and help.
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { diagnosticToJson } from "../../compiler/diagnostics/render.js";

const PATH = "tests/cases/errors/inline-json.unet";

describe("diagnosticToJson", () => {
  it("carries code, message, span, secondary, notes and help of an unused save", () => {
    const text = `version 1
import "std/lesson"

model tiny(size: int = 8) {
  input x: image[1, size, size]
  h = conv2d(x, 8) as conv_in
  save h
  save h
  h = conv2d(concat(h, skip), 8) as up
  return conv2d(h, 1) as conv_out
}
`;
    const r = checkSpec(PATH, { text });
    expect(r.diagnostics).toHaveLength(1);
    const json = diagnosticToJson(r.diagnostics[0]);
    expect(json).toEqual({
      code: "E0402",
      severity: "error",
      title: "saved activation never used",
      message: "an activation saved here is never used by a `skip`",
      // Columns are 1-based; endCol is exclusive (one past the last character).
      span: { file: PATH, line: 7, col: 3, endLine: 7, endCol: 9 },
      label: "saved [8, 8, 8] in the model's top level",
      secondary: [
        { span: { file: PATH, line: 9, col: 24, endLine: 9, endCol: 28 }, message: "the last `skip` is here; saves and skips must balance" },
      ],
      expected: null,
      found: null,
      notes: [expect.stringContaining("1 saved activation")],
      help: expect.stringContaining("add a `skip` for each save"),
    });
    // What a JSON consumer gets must survive a round trip (no Span objects with back-pointers).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it("gives expected/found and a span into the imported file for a bad enum argument", () => {
    const text = `version 1
import "std/lesson"

model tiny(size: int = 8) {
  input x: image[1, size, size]
  h = emb_resblock(conv2d(x, 8) as conv_in, none, 8, norm = "layer") as res
  return conv2d(h, 1) as conv_out
}
`;
    const [d] = checkSpec(PATH, { text }).diagnostics;
    const json = diagnosticToJson(d) as { code: string; span: { file: string; line: number; col: number }; secondary: { span: { file: string } ; message: string }[]; expected: string; found: string; help: string | null };
    expect(json.code).toBe("E0201");
    expect(json.span).toMatchObject({ file: PATH, line: 6, col: 61 });
    expect(json.expected).toBe('"batch" | "group"');
    expect(json.found).toBe('string "layer"');
    expect(json.secondary.map((s) => s.span.file)).toContain("models/std/lesson.unet");
    expect(json.help).toBeNull();
  });

  it("gives a null span for a file-level diagnostic and a `--set` span for an override", () => {
    const missing = diagnosticToJson(checkSpec("tests/cases/errors/no-such-file.unet").diagnostics[0]);
    expect(missing).toMatchObject({ code: "E0900", span: null, secondary: [] });
    const bad = checkSpec("models/lesson/emb_unet.unet", { set: ["nfs=16"] }).diagnostics;
    expect(bad.map((d) => d.code)).toEqual(["E0202"]);
    expect(diagnosticToJson(bad[0])).toMatchObject({ span: { file: "--set", line: 1, col: 1, endLine: 1, endCol: 7 }, expected: "[int]", found: "int 16" });
  });
});

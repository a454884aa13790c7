import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { grammarDiagramHtml } from "../../grammars/diagram.js";

it("docs/grammar.html is the railroad diagram of the current grammar (npm run grammar:diagram)", () => {
  expect(readFileSync("docs/grammar.html", "utf8")).toBe(grammarDiagramHtml());
});

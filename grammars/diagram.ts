// Writes the railroad diagram of the .unet grammar to docs/grammar.html (npm run grammar:diagram).
import { writeFileSync, mkdirSync } from "node:fs";
import { createSyntaxDiagramsCode } from "chevrotain";
import { unetParser } from "./parser.js";

export function grammarDiagramHtml(): string {
  return createSyntaxDiagramsCode(unetParser.getSerializedGastProductions());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync("docs", { recursive: true });
  writeFileSync("docs/grammar.html", grammarDiagramHtml());
  console.log("wrote docs/grammar.html");
}

// Writes the railroad diagram of the .unet grammar to docs/grammar.html (npm run grammar:diagram).
// chevrotain's page loads its scripts and stylesheet from a CDN, so it would render blank offline:
// they are inlined here from node_modules/chevrotain/diagrams, making the page self-contained.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createSyntaxDiagramsCode } from "chevrotain";
import { unetParser } from "./parser.js";

/** A base no URL has: every reference to it is replaced by the file's contents. */
const BASE = "unetc-inline:";

/** node_modules/chevrotain/diagrams (the package exports only its entry: go up from it). */
function diagramsDir(): string {
  const entry = createRequire(import.meta.url).resolve("chevrotain"); // <pkg>/lib/src/api.js
  return join(dirname(dirname(dirname(entry))), "diagrams");
}

export function grammarDiagramHtml(): string {
  const dir = diagramsDir();
  const page = createSyntaxDiagramsCode(unetParser.getSerializedGastProductions(), { resourceBase: BASE, css: `${BASE}diagrams.css` });
  const inlined = page
    .replace(/<link rel='stylesheet' href='unetc-inline:([^']+)'>/g, (_, file: string) => `<style>\n${readFileSync(join(dir, file), "utf8")}</style>`)
    .replace(/<script src='unetc-inline:([^']+)'><\/script>/g, (_, file: string) => `<script>\n${readFileSync(join(dir, file), "utf8")}</script>`);
  if (inlined.includes(BASE)) throw new Error(`internal: chevrotain's diagram page has a resource this script does not inline: ${inlined.slice(inlined.indexOf(BASE), inlined.indexOf(BASE) + 80)}`);
  return inlined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync("docs", { recursive: true });
  writeFileSync("docs/grammar.html", grammarDiagramHtml());
  console.log("wrote docs/grammar.html");
}

// Rewrites the `# expect:` block of every golden error case (tests/cases/errors/*.unet) from the
// compiler's current output. Review the diff before committing: a changed golden is a changed
// message that users will read.
//
//   npx tsx tests/update-goldens.ts            all cases
//   npx tsx tests/update-goldens.ts 027 030    only cases whose file name contains one of these
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { listCases, parseCase, runCase, withExpectBlock } from "./support/golden.js";

// Displayed paths are relative to the working directory: run from the repository root, as vitest does.
process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), ".."));

const filters = process.argv.slice(2);
let changed = 0;
let total = 0;
for (const path of listCases()) {
  if (filters.length && !filters.some((f) => path.includes(f))) continue;
  total++;
  const before = readFileSync(path, "utf8");
  const c = parseCase(path, before);
  const { result, rendered } = runCase(c);
  const after = withExpectBlock(c, rendered);
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  if (errors === 0) console.warn(`warning: ${path} is valid; a golden error case must fail to check`);
  if (after !== before) {
    writeFileSync(path, after);
    changed++;
    console.log(`updated ${path}`);
  }
}
console.log(`${changed} of ${total} golden case${total === 1 ? "" : "s"} updated`);

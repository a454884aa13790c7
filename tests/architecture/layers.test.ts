// The layout's import rules (docs/architecture.md), enforced: a layer imports only the layers
// below it, npm packages stay in the layers that own them, there are no import cycles and no
// source file over MAX_LINES. The checker itself is tested on a small made-up tree.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkLayers, importsOf, MAX_LINES } from "../../scripts/check-layers.js";

describe("the repository's layers", () => {
  test("hold: no upward import, no misplaced package, no cycle, no oversized file", () => {
    const found = checkLayers(process.cwd()).map((v) => `${v.file}:${v.line}: ${v.message}`);
    expect(found).toEqual([]);
  });
});

describe("the layer checker", () => {
  const root = mkdtempSync(join(tmpdir(), "unetc-layers-"));
  const put = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("reads static, re-export, side-effect and dynamic imports with their lines", () => {
    const text = `import { a } from "./a.js";\nexport { b } from "../b.js";\nimport "./c.js";\nconst d = await import("./d.js");\nimport type {\n  E,\n} from "node:fs";\n`;
    expect(importsOf(text)).toEqual([
      { spec: "./a.js", line: 1 },
      { spec: "../b.js", line: 2 },
      { spec: "./c.js", line: 3 },
      { spec: "./d.js", line: 4 },
      { spec: "node:fs", line: 7 },
    ]);
  });

  test("finds an upward import, a package out of place, a cycle and a long file", () => {
    put("compiler/ir/types.ts", `import { x } from "../check/check.js";\nexport const t = 1;\n`);
    put("compiler/check/check.ts", `import { parse } from "../front/parse.js";\nexport const x = parse;\n`);
    put("compiler/ops/a.ts", `import { b } from "./b.js";\nimport { Command } from "commander";\nexport const a = 1;\n`);
    put("compiler/ops/b.ts", `import { a } from "./a.js";\nexport const b = a;\n`);
    put("runtime/webgpu/long.ts", "// x\n".repeat(MAX_LINES + 1));
    const messages = checkLayers(root).map((v) => `${v.file}: ${v.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^compiler\/ir\/types\.ts: layer compiler\/ir may not import compiler\/check\/check\.ts/),
        expect.stringMatching(/^compiler\/ops\/a\.ts: the package commander belongs to cli/),
        expect.stringMatching(/^compiler\/ops\/a\.ts: import cycle among 2 files: compiler\/ops\/a\.ts, compiler\/ops\/b\.ts/),
        expect.stringMatching(/^runtime\/webgpu\/long\.ts: 501 lines/),
      ]),
    );
    // check importing front is allowed: nothing is said of it.
    expect(messages.filter((m) => m.startsWith("compiler/check/"))).toEqual([]);
    expect(messages).toHaveLength(4);
  });
});

// The import rules of docs/architecture.md, checked over the sources: each folder is a layer
// that may import only itself and the layers listed for it (all below it), npm packages are
// confined to the layers that own them, no file imports itself in a circle, and no source file
// grows past MAX_LINES. `npx tsx scripts/check-layers.ts` prints every violation; the test
// tests/architecture/layers.test.ts fails on any.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export const MAX_LINES = 500;

/** Layers, bottom first. A file belongs to the longest layer prefix of its path. */
export const LAYERS: ReadonlyArray<{ readonly path: string; readonly may: readonly string[] }> = [
  { path: "grammars", may: [] },
  { path: "compiler/diagnostics", may: [] },
  { path: "compiler/front", may: ["grammars", "compiler/diagnostics"] },
  { path: "compiler/check", may: ["compiler/front", "compiler/diagnostics"] },
  { path: "compiler/ir", may: [] },
  { path: "compiler/wgsl", may: ["compiler/ir"] },
  { path: "compiler/ops", may: ["compiler/ir", "compiler/wgsl"] },
  { path: "compiler/graph", may: ["compiler/ir", "compiler/ops"] },
  // One definition per node kind: the checker's half (from check/layers) beside its lowering.
  { path: "compiler/layers", may: ["compiler/check", "compiler/graph", "compiler/ir"] },
  { path: "compiler/passes", may: ["compiler/check", "compiler/layers", "compiler/graph", "compiler/ops", "compiler/ir", "compiler/wgsl", "compiler/diagnostics"] },
  // compile.ts and the emitters: the compiler's public entry, over every stage.
  { path: "compiler", may: ["grammars", "compiler/diagnostics", "compiler/front", "compiler/check", "compiler/ir", "compiler/wgsl", "compiler/ops", "compiler/graph", "compiler/layers", "compiler/passes"] },
  // The executors: they run what compile() made, importing no front end, never lowering or scheduling.
  { path: "runtime/reference", may: ["compiler/ir", "compiler/ops"] },
  { path: "runtime/webgpu", may: ["compiler/ir", "compiler/ops", "compiler/wgsl", "compiler/diagnostics", "runtime/reference"] },
  { path: "runtime/io", may: ["compiler/ir", "compiler/check", "compiler/diagnostics"] },
  // `unetc/runtime`, what a generated module runs on in a browser: the program data's types, the
  // samplers, the browser-safe safetensors reader and the pipeline helpers; no compiler code.
  {
    path: "runtime/embed",
    may: ["compiler/wgsl/program-data.ts", "runtime/diffusion", "runtime/io/safetensors-parse.ts", "runtime/webgpu/pipelines.ts", "runtime/webgpu/uniforms.ts", "runtime/webgpu/settle.ts"],
  },
  // The application built on running: it compiles through compiler/compile.ts only.
  {
    path: "runtime",
    may: ["compiler/compile.ts", "compiler/check", "compiler/ir", "compiler/diagnostics", "compiler/front/package-root.ts", "runtime/reference", "runtime/webgpu", "runtime/io"],
  },
  // The CLI parses arguments and calls the library: the compiler's public surface and the runtime.
  { path: "cli", may: ["compiler/compile.ts", "compiler/emit.ts", "compiler/emit", "compiler/check", "compiler/diagnostics", "compiler/ir", "runtime"] },
  { path: "bench", may: ["compiler", "runtime", "cli", "grammars"] },
  { path: "scripts", may: ["compiler", "runtime", "cli", "grammars"] },
];

/** npm packages and the layers that may use them (node: built-ins are free everywhere). */
export const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  chevrotain: ["grammars", "compiler/front"],
  webgpu: ["runtime/webgpu", "bench", "scripts"],
  commander: ["cli"],
  "cli-progress": ["cli"],
  pngjs: ["runtime/image", "runtime/data"],
  "fashion-mnist": ["runtime/data"],
  vega: ["runtime/image"],
  "vega-lite": ["runtime/image"],
  "@resvg/resvg-js": ["runtime/image"],
  "dejavu-fonts-ttf": ["runtime/image"],
  "ts-morph": ["compiler/emit/ts", "scripts"],
  esbuild: ["scripts"],
};

const SOURCE_ROOTS = ["grammars", "compiler", "runtime", "cli", "bench", "scripts"];

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

function listSources(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) listSources(root, rel, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(rel);
  }
}

const layerOf = (file: string): string | undefined =>
  LAYERS.map((l) => l.path)
    .filter((p) => file === p || file.startsWith(`${p}/`))
    .sort((a, b) => b.length - a.length)[0];

const within = (file: string, place: string) => file === place || file.startsWith(`${place}/`);

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

export function importsOf(text: string): Array<{ spec: string; line: number }> {
  const out: Array<{ spec: string; line: number }> = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const at = m.index + m[0].length - spec.length;
    out.push({ spec, line: text.slice(0, at).split("\n").length });
  }
  return out;
}

export function checkLayers(root: string): Violation[] {
  const files: string[] = [];
  for (const r of SOURCE_ROOTS) {
    try {
      listSources(root, r, files);
    } catch {
      // a missing source root has nothing to check
    }
  }
  const violations: Violation[] = [];
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES) violations.push({ file, line: 1, message: `${lines} lines, more than ${MAX_LINES}: split it by concern` });
    const layer = layerOf(file);
    const rule = LAYERS.find((l) => l.path === layer);
    const deps: string[] = [];
    for (const { spec, line } of importsOf(text)) {
      if (spec.startsWith(".")) {
        const target = normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts");
        deps.push(target);
        if (!rule || layerOf(target) === layer) continue;
        if (!rule.may.some((p) => within(target, p))) violations.push({ file, line, message: `layer ${layer} may not import ${target} (it may import ${rule.may.join(", ") || "nothing outside itself"})` });
      } else if (!spec.startsWith("node:")) {
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        const owners = PACKAGES[pkg];
        if (owners && !owners.some((p) => within(file, p))) violations.push({ file, line, message: `the package ${pkg} belongs to ${owners.join(", ")}` });
      }
    }
    edges.set(file, deps);
  }
  for (const cycle of cycles(edges)) violations.push({ file: cycle[0], line: 1, message: `import cycle among ${cycle.length} files: ${cycle.join(", ")}` });
  return violations;
}

/** Strongly connected components of more than one file (Tarjan), each as one member's cycle. */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

if (process.argv[1] && relative(process.cwd(), process.argv[1]).replace(/\\/g, "/") === "scripts/check-layers.ts") {
  const v = checkLayers(process.cwd());
  for (const x of v) console.log(`${x.file}:${x.line}: ${x.message}`);
  console.log(v.length ? `${v.length} violation${v.length === 1 ? "" : "s"}` : "the layers hold: no violations");
  process.exitCode = v.length ? 1 : 0;
}

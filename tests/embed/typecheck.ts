// Type-checks a generated module with ts-morph's own compiler under --strict, as an app that
// imports it would: `unetc/runtime` resolves to this repository's runtime entry, WebGPU's
// types come from @webgpu/types. Returns the formatted diagnostics ("" when there are none).
import { resolve } from "node:path";
import { ModuleKind, ModuleResolutionKind, Project, ScriptTarget } from "ts-morph";

const ROOT = resolve(import.meta.dirname, "../..");

export function typeCheckModule(fileName: string, text: string, o: { extra?: Readonly<Record<string, string>> } = {}): string {
  const project = new Project({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: ScriptTarget.ES2022,
      module: ModuleKind.ESNext,
      moduleResolution: ModuleResolutionKind.Bundler,
      types: [],
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      skipLibCheck: true,
      paths: { "unetc/runtime": [resolve(ROOT, "runtime/embed/index.ts")] },
    },
    skipAddingFilesFromTsConfig: true,
  });
  // Beside the repository's sources, so node_modules resolves as it would for an app in this tree.
  const dir = resolve(ROOT, "tests/embed/.typecheck");
  // WebGPU's types, as an app gets them from @webgpu/types (a browser's DOM lib has none yet).
  project.addSourceFileAtPath(resolve(ROOT, "node_modules/@webgpu/types/dist/index.d.ts"));
  project.createSourceFile(resolve(dir, fileName), text, { overwrite: true });
  for (const [name, source] of Object.entries(o.extra ?? {})) project.createSourceFile(resolve(dir, name), source, { overwrite: true });
  project.resolveSourceFileDependencies();
  const diagnostics = project.getPreEmitDiagnostics();
  return diagnostics.length ? project.formatDiagnosticsWithColorAndContext(diagnostics) : "";
}

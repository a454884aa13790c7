// Builds the sampler page (web/) for a trained run: `unetc compile RUN --emit ts` writes the
// model's module, esbuild bundles web/main.ts with it (`unetc/runtime` resolved to this
// repository's runtime entry), and the page, its stylesheet and the checkpoint are copied beside
// the bundle, so the folder is a static site.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { writeTsModule } from "../../cli/commands/compile-ts.js";
import { checkpointPath } from "../../runtime/train/checkpoint.js";

const ROOT = resolve(import.meta.dirname, "../..");
export const CHECKPOINT_URL = "checkpoint.safetensors";

export interface PageBuild {
  readonly dir: string;
  /** The generated module the page imports. */
  readonly module: string;
  readonly bundleBytes: number;
}

export async function buildSamplerPage(run: string, dir: string, o: { batch?: number } = {}): Promise<PageBuild> {
  const gen = join(dir, "gen");
  rmSync(gen, { recursive: true, force: true }); // a module of an earlier build must not linger
  mkdirSync(dir, { recursive: true });
  const written = await writeTsModule(run, { out: gen, set: [], batch: o.batch });
  if (!written) throw new Error(`cannot compile the model of ${run}`);
  const module = written.path;
  console.log(`wrote ${module}: ${written.module.model.name}, ${written.module.program.kernels.length} kernels per run of ${written.module.model.batch}`);
  // The entry: the page's code given the generated module.
  const entry = [`import * as generated from ${JSON.stringify(`./${relative(dir, module)}`)};`, `import { startPage } from ${JSON.stringify(resolve(ROOT, "web/main.ts"))};`, `void startPage(generated, ${JSON.stringify(CHECKPOINT_URL)});`].join("\n");
  const r = await build({
    stdin: { contents: entry, resolveDir: dir, sourcefile: "entry.ts", loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    outfile: join(dir, "main.js"),
    alias: { "unetc/runtime": resolve(ROOT, "runtime/embed/index.ts") },
    metafile: true,
    logLevel: "warning",
  });
  for (const f of ["index.html", "page.css"]) copyFileSync(join(ROOT, "web", f), join(dir, f));
  copyFileSync(checkpointPath(run), join(dir, CHECKPOINT_URL));
  const bundleBytes = r.metafile.outputs[relative(process.cwd(), join(dir, "main.js"))]?.bytes ?? 0;
  return { dir, module, bundleBytes };
}

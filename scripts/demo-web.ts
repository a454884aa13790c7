// `npm run demo:web [-- RUN] [--port N] [--build-only]`: builds the sampler page for a trained run
// (default: the newest runs/*/checkpoint.safetensors, as `npm run main` or `unetc train` leave)
// into dist/web and serves it on localhost. Open the printed address in a browser with WebGPU.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSamplerPage } from "./sampler-page/build.js";
import { serveFolder } from "./sampler-page/serve.js";

function newestRun(): string | undefined {
  if (!existsSync("runs")) return undefined;
  const runs = readdirSync("runs")
    .map((d) => join("runs", d, "checkpoint.safetensors"))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return runs[0] ? join(runs[0], "..") : undefined;
}

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const port = Number(flag("--port") ?? 8080);
const buildOnly = args.includes("--build-only");
const run = args.find((a) => !a.startsWith("--")) ?? newestRun();
if (!run) {
  console.error("error: no trained run: give one (npm run demo:web -- runs/NAME), or train one first (npm run main, or unetc train --preset cpu --out runs/cpu)");
  process.exit(1);
}
const out = resolve("dist/web");
const built = await buildSamplerPage(run, out);
console.log(`built the sampler page for ${run} in ${out} (bundle ${(built.bundleBytes / 1024).toFixed(0)} KiB)`);
if (!buildOnly) {
  const { url } = await serveFolder(out, port);
  console.log(`serving it at ${url} (Ctrl-C stops); it needs a browser with WebGPU`);
}

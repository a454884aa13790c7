// `unetc/runtime` stays small and browser-safe: bundled by esbuild for a browser, it takes in no
// file of the compiler (its imports of compiler/wgsl/program-data.ts are types only, erased), no
// Chevrotain, ts-morph or webgpu package, and no node: module. The layer rules
// (scripts/check-layers.ts) say which folders it may import; this checks what a bundle holds.
import { resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, test } from "vitest";
import { ROOT } from "./support.js";

describe("the runtime entry (unetc/runtime)", () => {
  test("bundles for the browser without the compiler, chevrotain or node: modules", async () => {
    const r = await build({ entryPoints: [resolve(ROOT, "runtime/embed/index.ts")], bundle: true, write: false, platform: "browser", format: "esm", metafile: true, minify: true, logLevel: "silent" });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((f) => f.startsWith("compiler/") || f.includes("node_modules"))).toEqual([]);
    expect(inputs.sort()).toEqual(
      expect.arrayContaining(["runtime/embed/index.ts", "runtime/embed/program-runner.ts", "runtime/io/safetensors-parse.ts", "runtime/diffusion/samplers.ts", "runtime/webgpu/pipelines.ts"]),
    );
    expect(inputs.every((f) => /^runtime\/(embed|io\/safetensors-parse|diffusion|webgpu\/(pipelines|uniforms|settle))/.test(f))).toBe(true);
    const size = r.outputFiles[0].contents.length;
    expect(size).toBeLessThan(40_000);
  });
});

// `unetc compile --emit ts`: the generated module for a small class-conditional spec is
// byte-for-byte reproducible (and pinned by tests/goldens/module-ts.test.ts), type-checks under
// --strict through ts-morph's own diagnostics together with an app that uses it (a wrong class
// name or input must not compile), describes the model as the checker sees it, and the CLI
// writes it or says what is wrong.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { emitTsModule, EmitOptionError } from "../../compiler/emit/ts/module.js";
import { TINY_SET, TINY_SPEC, unetc } from "./support.js";
import { typeCheckModule } from "./typecheck.js";

const model = () => {
  const r = checkSpec(TINY_SPEC, { set: TINY_SET });
  if (!r.graph) throw new Error("the tiny spec does not check");
  return r.graph;
};

const APP = `
import type { GeneratedModule } from "unetc/runtime";
import * as generated from "./emb_unet.js";
import { createModel, classNames, imageShape, inputs, type ClassName, type EmbUnetInputs, type EmbUnetModel } from "./emb_unet.js";
// Every generated module fits the interface a page written for any model takes.
export const asAny: GeneratedModule<EmbUnetInputs, ClassName> = generated;
export async function draw(device: GPUDevice, bytes: ArrayBuffer): Promise<Float32Array> {
  const m: EmbUnetModel = await createModel(device, bytes);
  const first: ClassName = classNames[0];
  const out = await m.sample({ n: 2, classId: first, seed: 1, steps: 3, sampler: "ddim", onProgress: (done: number, total: number) => void (done / total) });
  const shape: readonly [1, 8, 8] = imageShape;
  const n = out.count;
  const kind: "label" = inputs.c.kind;
  void kind;
  const y = await m.forward({ x: new Float32Array(n * shape[1] * shape[2]), t: new Float32Array(n), c: new Int32Array(n) });
  // @ts-expect-error -- not a class of this model
  await m.sample({ n: 1, classId: "diagonal" });
  // @ts-expect-error -- labels are Int32Array
  await m.forward({ x: y, t: new Float32Array(n), c: new Float32Array(n) });
  // @ts-expect-error -- an unknown sampler
  await m.sample({ n: 1, sampler: "plms" });
  return out.images;
}
`;

describe("unetc compile --emit ts", () => {
  const o = { batch: 4, classNames: ["vertical", "horizontal"], origin: { spec: TINY_SPEC, set: TINY_SET } };
  const emitted = emitTsModule(model(), o);

  test("emitting again gives the same bytes (its golden is tests/goldens/module-ts.test.ts)", () => {
    expect(emitTsModule(model(), o).text).toBe(emitted.text);
  });

  test("it type-checks under --strict with an app that uses it; wrong classes, dtypes and samplers do not", () => {
    expect(emitted.fileName).toBe("emb_unet.ts");
    expect(typeCheckModule(emitted.fileName, emitted.text, { extra: { "app.ts": APP } })).toBe("");
  }, 60_000);

  test("it describes the inputs, output, parameters and program", () => {
    const m = emitted.model;
    expect(m.inputs).toEqual([
      { name: "x", kind: "image", dtype: "f32", shape: [1, 8, 8] },
      { name: "t", kind: "timestep", dtype: "f32", shape: [] },
      { name: "c", kind: "label", dtype: "i32", shape: [], classes: 2 },
    ]);
    expect(m.output).toEqual({ name: "output", dtype: "f32", shape: [1, 8, 8] });
    expect(m.parameters.find((p) => p.name === "conv_in.weight")).toEqual({ name: "conv_in.weight", shape: [4, 1, 3, 3], ema: "ema.conv_in.weight" });
    const p = emitted.program;
    expect(p.kernels.length).toBeGreaterThan(10);
    expect(p.shaders.length).toBe(new Set(p.shaders).size);
    for (const k of p.kernels) for (const [buffer, offset, size] of k.bindings) expect(offset + size).toBeLessThanOrEqual(p.buffers[buffer]);
    expect(p.sources.map((s) => s.name)).toEqual(expect.arrayContaining(["x", "t", "c", "conv_in.weight"]));
    expect(p.limits.maxStorageBuffersPerShaderStage).toBe(8);
  });

  test("class names must fit the model", () => {
    expect(() => emitTsModule(model(), { ...o, classNames: ["a", "b", "c"] })).toThrow(EmitOptionError);
    expect(() => emitTsModule(model(), { ...o, classNames: ["a", "b", "c"] })).toThrow(/has 2 classes; 3 class names were given/);
    expect(emitTsModule(model(), { batch: 2 }).model.classNames).toEqual(["class 0", "class 1"]);
  });
});

describe("unetc compile --emit ts on the command line", () => {
  test("writes <model>.ts into --out; a missing --out or wrong class names end with a message, not a trace", () => {
    const tmp = mkdtempSync(join(tmpdir(), "unetc-emit-ts-"));
    try {
      const set = TINY_SET.flatMap((s) => ["--set", s]);
      const ok = unetc("compile", TINY_SPEC, ...set, "--emit", "ts", "--out", tmp, "--batch", "2", "--class-names", "a, b");
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^wrote .*emb_unet\.ts: emb_unet for 2 images per run, \d+ kernels \(\d+ distinct shaders\)/);
      expect(readFileSync(join(tmp, "emb_unet.ts"), "utf8")).toContain('export const classNames = ["a", "b"] as const;');
      const noOut = unetc("compile", TINY_SPEC, ...set, "--emit", "ts");
      expect([noOut.code, noOut.stderr.trim()]).toEqual([2, "error: --emit ts writes a module file: give the folder with --out DIR"]);
      const names = unetc("compile", TINY_SPEC, ...set, "--emit", "ts", "--out", tmp, "--class-names", "a,b,c");
      expect([names.code, names.stderr.trim()]).toEqual([1, "error: model emb_unet has 2 classes; 3 class names were given"]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

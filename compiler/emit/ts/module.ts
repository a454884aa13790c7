// `unetc compile --emit ts`: one typed TypeScript module per model, written with ts-morph. It
// holds the model's inputs and output (names, per-image shapes, dtypes, class names) as types
// and as data, `createModel(device, weights)` returning `forward` and `sample`, and the whole
// eval program (WGSL kernels in dispatch order, Dims uniforms, the memory plan's buffers)
// embedded as data; at run time it imports only `unetc/runtime`. The kernels are planned for
// the WebGPU spec's default limits, which every adapter offers, and use no optional feature, so
// the module runs on any device as it comes from requestDevice().
import { IndentationText, Project, StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import type { ModelGraph } from "../../check/model-graph.js";
import { UserError } from "../../diagnostics/user-error.js";
import { compile, DEFAULT_LIMITS } from "../../compile.js";
import type { ModelData, ProgramData } from "../../wgsl/program-data.js";
import { literal, type Literal } from "./literal.js";
import { modelData } from "./model-data.js";
import { programData } from "./program-data.js";

export interface TsModuleOptions {
  /** Images per program run. */
  readonly batch: number;
  /** One per class of the model's label input. */
  readonly classNames?: readonly string[];
  /** The schedule the weights will have been trained with, where known (a checkpoint says). */
  readonly schedule?: "cosine" | "karras";
  /** Kernel tiles for a hardware GPU instead of a software adapter (default false). */
  readonly hardware?: boolean;
  /** How the module imports the runtime (default `unetc/runtime`). */
  readonly runtimeImport?: string;
  /** Where the model came from, for the header: the spec as given, --set overrides, a checkpoint. */
  readonly origin?: { readonly spec: string; readonly set?: readonly string[]; readonly checkpoint?: string };
}

export interface TsModule {
  /** `<model>.ts` */
  readonly fileName: string;
  readonly text: string;
  readonly model: ModelData;
  readonly program: ProgramData;
}

export class EmitOptionError extends UserError {}

export const DEFAULT_RUNTIME_IMPORT = "unetc/runtime";

/** emb_unet -> EmbUnet */
const pascal = (name: string) => name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("") || "Model";

export function emitTsModule(model: ModelGraph, o: TsModuleOptions): TsModule {
  const label = model.inputs.find((i) => i.kind === "label");
  if (o.classNames && !label) throw new EmitOptionError(`model ${model.name} has no class label input, so it takes no class names`);
  if (o.classNames && label && o.classNames.length !== label.classes) throw new EmitOptionError(`model ${model.name} has ${label.classes} classes; ${o.classNames.length} class names were given`);
  if (model.nodes[model.output].shape.length === 1) throw new EmitOptionError(`${model.name} is a classifier; --emit ts writes denoisers (a module with sample())`);
  const compiled = compile(model, { batch: o.batch, mode: "eval", limits: DEFAULT_LIMITS, hardware: o.hardware ?? false });
  const program = programData(compiled);
  const data = modelData(model, compiled, program, o);
  return { fileName: `${model.name}.ts`, text: printModule(data, program, o), model: data, program };
}

function printModule(m: ModelData, p: ProgramData, o: TsModuleOptions): string {
  const T = pascal(m.name);
  const image = m.inputs.find((i) => i.kind === "image");
  const describe = (i: ModelData["inputs"][number]) =>
    `${i.kind} [n${i.shape.map((d) => `, ${d}`).join("")}] ${i.dtype}${i.kind === "image" ? ": the noisy images" : i.kind === "timestep" ? ": the noise level of each image" : `: a class id per image, in [0, ${i.classes})`}`;
  const set = o.origin?.set?.length ? ` ${o.origin.set.map((s) => `--set ${s}`).join(" ")}` : "";
  const from = o.origin ? `${o.origin.checkpoint ? `the checkpoint ${o.origin.checkpoint} (spec ${o.origin.spec})` : o.origin.spec}${set}` : `model ${m.name}`;
  const shaders = p.shaders.length;
  const bytes = p.buffers.reduce((a, b) => a + b, 0);
  const con = (name: string, value: string, docs?: string, type?: string): StatementStructures => ({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    ...(docs ? { docs: [docs] } : {}),
    declarations: [{ name, ...(type ? { type } : {}), initializer: value }],
  });
  const inputsLiteral = Object.fromEntries(m.inputs.map((i) => [i.name, i as unknown as Literal]));
  const modelLiteral = { ...m, inputs: "@inputs" } as unknown as Literal;
  const statements: StatementStructures[] = [
    {
      kind: StructureKind.ImportDeclaration,
      moduleSpecifier: o.runtimeImport ?? DEFAULT_RUNTIME_IMPORT,
      namedImports: ["instantiate", "type ModelData", "type ModelInputData", "type ProgramData", "type UnetModel", "type WeightsSource"],
    },
    con("modelName", JSON.stringify(m.name), "The model's name in its spec."),
    con("batch", String(m.batch), "Images per program run; more are run in chunks of this many."),
    con("classNames", `${literal((m.classNames ?? []) as Literal)} as const`, "Class names by id (class-conditional models)."),
    { kind: StructureKind.TypeAlias, isExported: true, name: "ClassName", type: "(typeof classNames)[number]" },
    con("imageShape", `${literal((image?.shape ?? []) as Literal)} as const`, "One image: [channels, height, width], values in [-1, 1]."),
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: `${T}Inputs`,
      docs: ["The model's inputs for n images, the batch axis first."],
      properties: m.inputs.map((i) => ({ name: i.name, isReadonly: true, type: i.dtype === "i32" ? "Int32Array" : "Float32Array", docs: [describe(i)] })),
    },
    con("inputs", `${literal(inputsLiteral, 0, 23)} as const satisfies { readonly [K in keyof ${T}Inputs]: ModelInputData }`, "Each input: name, kind, dtype, shape per image, class count."),
    con("output", `${literal(m.output as unknown as Literal, 0, 15)} as const`, "The output: the predicted noise (or the preconditioned output of a Karras model) per image."),
    { kind: StructureKind.TypeAlias, isExported: true, name: `${T}Model`, type: `UnetModel<${T}Inputs, ClassName>`, docs: [`${m.name} on a device: forward(inputs) and sample({ n, classId, seed, steps, sampler, onProgress }).`] },
    {
      kind: StructureKind.Function,
      isExported: true,
      name: "createModel",
      docs: [
        "Creates the model on `device` (a browser's from navigator.gpu, or Dawn's in Node) with `weights`: a safetensors file's bytes " +
          "(a unetc checkpoint: its EMA weights unless `ema` is false, its schedule and class names) or tensors by name.",
      ],
      parameters: [
        { name: "device", type: "GPUDevice" },
        { name: "weights", type: "WeightsSource" },
        { name: "options", type: "{ readonly ema?: boolean }", initializer: "{}" },
      ],
      returnType: `Promise<${T}Model>`,
      statements: [`return instantiate<${T}Inputs, ClassName>(device, weights, model, program, options);`],
    },
    con("model", literal(modelLiteral, 0, 28).replace('"@inputs"', `[${m.inputs.map((i) => `inputs.${i.name}`).join(", ")}]`), "What the runtime checks weights and inputs against.", "ModelData"),
    con(
      "program",
      literal(p as unknown as Literal, 0, 30),
      `The eval program for ${m.batch} images: ${p.kernels.length} kernels in dispatch order (${shaders} distinct WGSL shaders), ${p.buffers.length} buffers of ${bytes} bytes in all (the memory plan), planned for the WebGPU default limits.`,
      "ProgramData",
    ),
  ];
  const project = new Project({ useInMemoryFileSystem: true, manipulationSettings: { indentationText: IndentationText.TwoSpaces } });
  const sf = project.createSourceFile(`${m.name}.ts`, { statements }, { overwrite: true });
  // The writer indents a multi-line initializer by its own rules; the formatter makes it uniform.
  sf.formatText({ indentSize: 2, tabSize: 2, convertTabsToSpaces: true });
  const header = [
    `// ${m.name}, a diffusion UNet compiled by unetc from ${from}, for ${m.batch} images per run.`,
    "// Generated by `unetc compile --emit ts`: do not edit; compile again instead. At run time it needs",
    `// only ${JSON.stringify(o.runtimeImport ?? DEFAULT_RUNTIME_IMPORT)} and a WebGPU device (navigator.gpu in a browser, the webgpu package in Node).`,
  ].join("\n");
  return `${header}\n${sf.getFullText()}`;
}

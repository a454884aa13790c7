// A model's weights from what an app has: the bytes of a safetensors file (a unetc training
// checkpoint or a bare state_dict) or tensors by name. As `unetc sample` does, a checkpoint's EMA
// average is used when it holds one for every averaged tensor (`ema: false` takes the raw
// weights), and the training schedule and class names are read from its metadata.
import type { ModelData } from "../../compiler/wgsl/program-data.js";
import { parseSafetensors, type ParsedTensorData } from "../io/safetensors-parse.js";

/** A safetensors file's bytes, or tensors by their state_dict names. */
export type WeightsSource = ArrayBuffer | ArrayBufferView | ReadonlyMap<string, ParsedTensorData> | Readonly<Record<string, ParsedTensorData>>;

export class WeightsError extends Error {
  override readonly name = "WeightsError";
}

export interface LoadedWeights {
  /** One array per parameter and buffer of the model, by name. */
  readonly tensors: ReadonlyMap<string, ParsedTensorData>;
  readonly ema: boolean;
  /** From a checkpoint's metadata, when it has them. */
  readonly schedule?: "cosine" | "karras";
  readonly classNames?: readonly string[];
  /** The optimizer steps the checkpoint was trained for. */
  readonly step?: number;
}

// Metadata keys of a unetc checkpoint (runtime/train/checkpoint.ts writes them).
const META = { config: "train_config", classes: "classes", step: "step" } as const;

function fromMetadata(md: Readonly<Record<string, string>>): Pick<LoadedWeights, "schedule" | "classNames" | "step"> {
  const json = (key: string): unknown => {
    try {
      return md[key] === undefined ? undefined : (JSON.parse(md[key]) as unknown);
    } catch {
      return undefined;
    }
  };
  const config = json(META.config) as { schedule?: unknown } | undefined;
  const classes = json(META.classes);
  const schedule = config?.schedule === "cosine" || config?.schedule === "karras" ? config.schedule : undefined;
  const classNames = Array.isArray(classes) && classes.every((c) => typeof c === "string") ? (classes as string[]) : undefined;
  const step = md[META.step] !== undefined && Number.isFinite(Number(md[META.step])) ? Number(md[META.step]) : undefined;
  return { ...(schedule ? { schedule } : {}), ...(classNames ? { classNames } : {}), ...(step !== undefined ? { step } : {}) };
}

const isBytes = (w: WeightsSource): w is ArrayBuffer | ArrayBufferView => w instanceof ArrayBuffer || ArrayBuffer.isView(w);

/** The model's tensors from `source`, checked against its parameter list (every problem listed). */
export function loadWeights(model: ModelData, source: WeightsSource, o: { ema?: boolean; name?: string } = {}): LoadedWeights {
  const what = o.name ?? "the weights";
  let all: ReadonlyMap<string, ParsedTensorData>;
  let meta: Pick<LoadedWeights, "schedule" | "classNames" | "step"> = {};
  const shapes = new Map<string, readonly number[]>();
  if (isBytes(source)) {
    const parsed = parseSafetensors(source, what);
    all = new Map([...parsed.tensors].map(([k, t]) => [k, t.data]));
    for (const [k, t] of parsed.tensors) shapes.set(k, t.shape);
    meta = fromMetadata(parsed.metadata);
  } else {
    all = source instanceof Map ? source : new Map(Object.entries(source));
  }
  const averaged = model.parameters.filter((p) => p.ema !== undefined);
  const useEma = (o.ema ?? true) && averaged.length > 0 && averaged.every((p) => all.has(p.ema!));
  const tensors = new Map<string, ParsedTensorData>();
  const problems: string[] = [];
  for (const p of model.parameters) {
    const name = useEma && p.ema !== undefined ? p.ema : p.name;
    const t = all.get(name);
    const count = p.shape.reduce((a, b) => a * b, 1);
    const shape = shapes.get(name);
    if (!t && p.optional) continue;
    if (!t) problems.push(`missing tensor \`${name}\` of shape [${p.shape.join(", ")}]`);
    else if (shape && (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i]))) problems.push(`\`${name}\` has shape [${shape.join(", ")}]; the model needs [${p.shape.join(", ")}]`);
    else if (t.length !== count) problems.push(`\`${name}\` has ${t.length} values; the model needs ${count} ([${p.shape.join(", ")}])`);
    else tensors.set(p.name, t);
  }
  if (problems.length) {
    const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
    if (problems.length > 20) shown.push(`  - ... and ${problems.length - 20} more`);
    throw new WeightsError(`${what} do not fit model ${model.name}:\n${shown.join("\n")}`);
  }
  return { tensors, ema: useEma, ...meta };
}

/** Fetches a checkpoint (or any safetensors file) as bytes for createModel; a failed request throws. */
export async function fetchWeights(url: string | URL, init?: RequestInit): Promise<ArrayBuffer> {
  const res = await fetch(url, init);
  if (!res.ok) throw new WeightsError(`cannot load weights from ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

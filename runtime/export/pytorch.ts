// The folder `unetc export SPEC --to pytorch --out DIR` writes: the model's module (model.py, made
// by compiler/emit/pytorch), the trainer (train.py: unetc's recipe under torchrun), the formats and
// random numbers it shares with unetc (unetc_io.py), a torchrun shim for Debian's torch 1.13 on
// Python 3.11 (launch.py), what train.py writes into every checkpoint (unetc.json), a README, and
// optionally the training data in unetc's dataset-cache format (data.bin).
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelGraph } from "../../compiler/check/model-graph.js";
import { PACKAGE_ROOT } from "../../compiler/front/package-root.js";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import { encodeDatasetCache } from "../data/cache.js";
import { loadFashionMnist } from "../data/fashion-mnist.js";
import { loadPngFolder } from "../data/png-folder.js";
import { writeFileAtomic } from "../data/atomic-write.js";
import { encodeMeta, type CheckpointMeta, type SpecInfo } from "../train/checkpoint.js";
import { oneCycleState } from "../train/onecycle.js";

/** The Python files copied as they are (they live beside this module in the source tree). */
const ASSETS = ["train.py", "unetc_io.py", "launch.py"] as const;
const ASSET_DIR = join(PACKAGE_ROOT, "runtime", "export", "pytorch");

/** Checkpoint metadata train.py writes itself, per run and step; the rest comes from unetc.json. */
export const RUN_METADATA_KEYS = ["train_config", "position", "step", "epoch", "rng_state", "schedule", "classes", "device"] as const;

export const EXPORT_FORMAT = "unetc-pytorch-export/1";
export const DATA_FILE = "data.bin";

export interface PytorchExportOptions {
  readonly out: string;
  readonly model: ModelGraph;
  /** model.py's text (compiler/emit/pytorch). */
  readonly modelPy: string;
  /** The spec as a checkpoint stores it (specInfo). */
  readonly spec: SpecInfo;
  /** "fashion-mnist", a folder of PNGs, or undefined for no data file. */
  readonly data?: string;
  readonly cacheDir?: string;
  readonly onWarning?: (message: string) => void;
}

export interface PytorchExport {
  /** Every file written, by name. */
  readonly files: Record<string, string>;
  /** Images in data.bin (0 without). */
  readonly images: number;
}

/** The checkpoint metadata that is the same for every run of this export (the spec, the model's config). */
export function staticCheckpointMetadata(model: ModelGraph, spec: SpecInfo): Record<string, string> {
  const placeholder: CheckpointMeta = {
    spec,
    config: { data: "", epochs: 1, batch: 1, lr: 1, schedule: "cosine", optimizer: "adam", eps: 1, beta2: 0, weightDecay: 0, seed: 0 },
    position: { step: 0, epoch: 0, batchInEpoch: 0, rngState: 0, epochLossSum: 0, epochLossSteps: 0 },
    schedule: oneCycleState({ maxLr: 1, totalSteps: 1 }),
    classNames: [],
    modelConfig: model.config,
    device: "pytorch",
  };
  const meta = encodeMeta(placeholder);
  for (const key of RUN_METADATA_KEYS) {
    if (!(key in meta)) throw new Error(`internal: checkpoint metadata has no "${key}"; update train.py and RUN_METADATA_KEYS`);
    delete meta[key];
  }
  return meta;
}

async function writeData(path: string, source: string, o: PytorchExportOptions): Promise<number> {
  if (source === "fashion-mnist") {
    const loaded = await loadFashionMnist({ cacheDir: o.cacheDir, onWarning: o.onWarning });
    await copyFile(loaded.cachePath, path);
    return loaded.dataset.count;
  }
  const ds = await loadPngFolder(source);
  await writeFileAtomic(path, encodeDatasetCache(ds, source));
  return ds.count;
}

const readme = (model: ModelGraph, data: boolean): string => `# ${model.name} for PyTorch

Written by \`unetc export --to pytorch\`. See unetc's docs/pytorch.md for the whole story.

- \`model.py\`: the module; \`build_model()\`; \`state_dict()\` names are unetc's parameter paths.
- \`train.py\`: \`unetc train\`'s recipe under torchrun (DDP; \`--fsdp\`); writes unetc run folders.
- \`unetc_io.py\`: checkpoints, safetensors, data, unetc's random numbers.
- \`launch.py\`: \`torchrun\` with a fix for torch < 2.0 on Python >= 3.11 (Debian 12's python3-torch).
- \`unetc.json\`: the spec and model config every checkpoint records.
${data ? "- `data.bin`: the training data (unetc's dataset cache format).\n" : ""}
\`\`\`sh
torchrun --nproc_per_node 2 train.py --out runs/${model.name}${data ? "" : " --data DATA"}   # then: unetc sample runs/${model.name}
\`\`\`

A unetc checkpoint into the module:

\`\`\`python
import model, unetc_io
net = model.build_model()
net.load_state_dict(unetc_io.load_state_dict("runs/${model.name}", ema=True), strict=True)
\`\`\`
`;

export async function writePytorchExport(o: PytorchExportOptions): Promise<PytorchExport> {
  await mkdir(o.out, { recursive: true });
  const files: Record<string, string> = {};
  const put = async (name: string, text: string): Promise<void> => {
    files[name] = join(o.out, name);
    await writeFile(files[name], text);
  };
  await put("model.py", o.modelPy);
  for (const name of ASSETS) {
    let text: string;
    try {
      text = await readFile(join(ASSET_DIR, name), "utf8");
    } catch {
      throw new UserError(`${join(ASSET_DIR, name)} is missing: this unetc installation is incomplete`);
    }
    await put(name, text);
  }
  let images = 0;
  if (o.data !== undefined) {
    files[DATA_FILE] = join(o.out, DATA_FILE);
    images = await writeData(files[DATA_FILE], o.data, o);
  }
  const info = {
    format: EXPORT_FORMAT,
    model: o.model.name,
    checkpoint_metadata: staticCheckpointMetadata(o.model, o.spec),
    data: o.data === undefined ? null : { file: DATA_FILE, source: o.data, images },
  };
  await put("unetc.json", JSON.stringify(info, null, 2) + "\n");
  await put("README.md", readme(o.model, o.data !== undefined));
  return { files, images };
}

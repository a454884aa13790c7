// `unetc export INPUT --to FORMAT --out PATH`: a unetc model or run in another tool's format. One
// entry per format in TARGETS (what INPUT is, and the function that writes it); --to picks one.
//   state-dict  INPUT is a run folder or checkpoint: its model tensors as a PyTorch state_dict
//               (safetensors; --ema: the EMA weights as the model's)
//   onnx        INPUT is a run folder or checkpoint: its inference graph and weights as ONNX
//   pytorch     INPUT is a spec: model.py, train.py (unetc's recipe under torchrun) and their
//               helpers in the folder --out, with the training data unless --no-data
import { type Command, Option } from "commander";
import { UsageError } from "../../compiler/diagnostics/user-error.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { exportStateDict } from "../../runtime/train/export-state-dict.js";
import { jsonPath, printJson, proseFor } from "../json-output.js";
import { addSpecOptions, numberOption, type SetExit } from "../options.js";
import { RULES } from "../../runtime/train/number-rules.js";
import { toOnnx } from "./export-onnx.js";
import { checkpointModel } from "./checkpoint-model.js";
import { toPytorch } from "./export-pytorch.js";

export interface ExportFlags {
  to: string;
  out: string;
  ema?: boolean;
  batch?: number;
  set: string[];
  model?: string;
  json?: boolean;
  color?: boolean;
  /** pytorch: the data source for data.bin, or false (--no-data). */
  data?: string | false;
}

interface ExportTarget {
  /** What the command's INPUT is for this format, for --help. */
  readonly input: string;
  readonly run: (input: string, flags: ExportFlags, cmd: Command) => Promise<number>;
}

const TARGETS: Readonly<Record<string, ExportTarget>> = {
  "state-dict": { input: "a run folder or checkpoint", run: toStateDict },
  onnx: { input: "a run folder or checkpoint", run: toOnnx },
  pytorch: { input: "a .unet spec", run: toPytorch },
};

export function addExportCommand(program: Command, setExit: SetExit): void {
  const formats = Object.keys(TARGETS);
  const command = program
    .command("export")
    .description("write a model or run in another tool's format")
    .argument("<input>", formats.map((f) => `--to ${f}: ${TARGETS[f].input}`).join("; "))
    .addOption(new Option("--to <format>", "the format to write").choices(formats).makeOptionMandatory())
    .requiredOption("--out <path>", "where to write it")
    .option("--ema", "state-dict, onnx: the run's EMA weights as the model's (default: its raw weights)")
    .addOption(numberOption("--batch <n>", "onnx: the batch size of the graph's inputs (default 1)", RULES.positiveInt))
    .option("--data <source>", "pytorch: the training data to include as data.bin: fashion-mnist (default) or a folder of PNGs")
    .option("--no-data", "pytorch: include no data (give train.py --data)")
    .option("--json", "print one JSON object (what was written) on stdout");
  addSpecOptions(command).action(async (input: string, flags: ExportFlags, cmd: Command) => setExit(await TARGETS[flags.to].run(input, flags, cmd)));
}

async function toStateDict(run: string, flags: ExportFlags): Promise<number> {
  if (flags.set.length || flags.model) throw new UsageError("--set and --model do not apply to --to state-dict: a run keeps the overrides it was trained with");
  const say = proseFor(flags.json);
  const ckpt = await readCheckpoint(run);
  const model = checkpointModel(ckpt, flags);
  const r = await exportStateDict(model, ckpt, flags.out, { ema: flags.ema === true });
  say(`wrote ${flags.out}: ${r.tensors} tensors (${r.values.toLocaleString("en-US")} values) of ${model.name} at step ${r.step}, ${r.ema ? "EMA" : "raw"} weights; load with model.load_state_dict(safetensors.torch.load_file(...), strict=True)`);
  if (flags.json) printJson({ command: "export", ok: true, to: "state-dict", model: model.name, step: r.step, weights: r.ema ? "ema" : "raw", tensors: r.tensors, values: r.values, files: { stateDict: jsonPath(flags.out) } });
  return 0;
}

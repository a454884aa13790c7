// Self-contained checkpoints: a run stores every file of its spec (root and imports) with its
// hash, and `sample` checks the model again from those texts: after the imported file is changed
// on disk (here: emptied, so the spec on disk no longer checks) the run samples the same images
// and says, in one line, that it used the stored files.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { specInfo } from "../../runtime/train/from-checkpoint.js";
import { train } from "../../runtime/train/loop.js";
import { barData, config, TINY } from "../train/support.js";
import { checkedModel, unetc, writeTestCheckpoint } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "unetc-sources-"));

describe("checkpoints carry their spec's files", () => {
  it("keys files of unetc's models/ folder by their place there", async () => {
    const { path } = await writeTestCheckpoint(join(tmp, "models-run"));
    const files = (await readCheckpoint(path)).meta.spec.files ?? [];
    expect(files.map((f) => [f.key, f.path])).toEqual([
      ["models:lesson/emb_unet.unet", "models/lesson/emb_unet.unet"],
      ["models:std/lesson.unet", "models/std/lesson.unet"],
    ]);
    expect(files[1].text).toBe(readFileSync("models/std/lesson.unet", "utf8"));
    expect(files[1].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sample uses the stored files when an imported file changed on disk, and says so", async () => {
    const spec = join(tmp, "spec");
    mkdirSync(join(spec, "std"), { recursive: true });
    copyFileSync("models/lesson/emb_unet.unet", join(spec, "root.unet"));
    copyFileSync("models/std/lesson.unet", join(spec, "std", "lesson.unet")); // found before models/std: imports look beside the file first
    const run = join(tmp, "run");
    const root = join(spec, "root.unet");
    const { model, result } = checkedModel(root, TINY);
    const r = await train({ model, spec: specInfo(root, result, model, TINY), config: config({ epochs: 1 }), data: barData(8, 2), device: "reference", out: run });
    expect(r.position.step).toBe(2);
    const ckpt = await readCheckpoint(run);
    expect(ckpt.meta.spec.files?.map((f) => f.key)).toEqual(["root.unet", "std/lesson.unet"]);
    expect(ckpt.tensors.get("emb_mlp.0.0.num_batches_tracked")).toEqual({ dtype: "I64", shape: [], data: Int32Array.of(2) });

    const sample = (out: string) => unetc("sample", run, "--n", "1", "--steps", "2", "--device", "reference", "--out", join(tmp, out));
    const before = sample("before.png");
    expect(before.stderr).toBe("");
    expect(before.code).toBe(0);

    writeFileSync(join(spec, "std", "lesson.unet"), "version 1\n# emptied: the blocks emb_unet needs are gone\n");
    expect(unetc("check", join(spec, "root.unet")).code).toBe(1);
    const after = sample("after.png");
    expect(after.code).toBe(0);
    expect(after.stderr).toBe(`note: using the spec files stored in ${join(run, "checkpoint.safetensors")} (on disk, ${join(spec, "std", "lesson.unet")} changed since it was written)\n`);
    expect(readFileSync(join(tmp, "after.png")).equals(readFileSync(join(tmp, "before.png")))).toBe(true);
  });
});

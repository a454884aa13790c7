// Whole-pipeline goldens: what `unetc compile --emit ...` prints for a small spec that has every
// kind of layer (convolutions, group/batch norm, attention, timestep and class embeddings, skips).
// Recorded before the layout change so that a restructuring provably changes nothing; a diff here
// is a change in the generated graph, schedule, memory plan or WGSL, to be reviewed as such.
//   npx vitest run tests/goldens -u     rewrites them
import { describe, expect, test } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { compileText, type Emit } from "../../compiler/emit.js";

const SET = ["nfs=[4,8]", "num_layers=1", "attn_chans=4", "classes=3", "size=8"];

describe("compile --emit goldens (emb_unet, nfs [4,8], attention, 3 classes, 8x8, batch 2)", () => {
  const r = checkSpec("models/lesson/emb_unet.unet", { set: SET });
  const emits: Emit[] = ["graph", "schedule", "train-graph", "train-schedule", "train-wgsl"];
  for (const emit of emits) {
    test(emit, async () => {
      expect(r.graph).toBeDefined();
      const text = compileText(r.graph!, emit, 2, "adam");
      await expect(text + "\n").toMatchFileSnapshot(`./emb_unet.${emit}.txt`);
    });
  }
});

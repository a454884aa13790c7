// The golden of `unetc compile --emit ts` for a tiny class-conditional UNet (emb_unet, nfs [4],
// 2 classes, 8x8, batch 4): the typed module, its model description and the embedded program
// (WGSL, schedule, memory plan). It changes with every kernel or schedule change, as the other
// goldens here do; review the diff as such.
//   npx vitest run tests/goldens -u     rewrites them
import { describe, expect, test } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { emitTsModule } from "../../compiler/emit/ts/module.js";
import { TINY_SET, TINY_SPEC } from "../embed/support.js";

describe("compile --emit ts golden", () => {
  test("emb_unet, nfs [4], 2 classes, 8x8, batch 4", async () => {
    const r = checkSpec(TINY_SPEC, { set: TINY_SET });
    expect(r.graph).toBeDefined();
    const m = emitTsModule(r.graph!, { batch: 4, classNames: ["vertical", "horizontal"], origin: { spec: TINY_SPEC, set: TINY_SET } });
    await expect(m.text).toMatchFileSnapshot("./emb_unet_tiny.module.ts.txt");
  });
});

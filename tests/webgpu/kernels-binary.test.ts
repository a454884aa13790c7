import { describe, it } from "vitest";
import { BINARY_KINDS } from "../../compiler/ir/kinds.js";
import { expectKernelMatchesReference, getGpu } from "./gpu-harness.js";

const gpu = await getGpu();
const shapes: Array<[number[], number[]]> = [
  [[2, 3, 5, 7], [2, 3, 5, 7]],
  [[2, 3, 5, 7], [1, 3, 1, 1]],
  [[4, 1, 6], [5, 1]],
  [[], [3, 4]],
  [[1000], []],
];

describe.skipIf(typeof gpu === "string")(`binary kernels ${typeof gpu === "string" ? `(skipped: ${gpu})` : ""}`, () => {
  for (const op of BINARY_KINDS) {
    it.each(shapes)(`${op} %j with %j`, async (a, b) => {
      if (typeof gpu === "string") return;
      await expectKernelMatchesReference(gpu, op, [{ shape: a }, { shape: b, range: op === "div" ? [0.5, 2] : undefined }], {});
    });
  }
});

// Graph sources: the model's inputs, numbers in tensor arithmetic, and named learned tensors.
import { ELABORATED } from "../check/layers/elaborated.js";
import { BUILTINS } from "../check/layers/index.js";
import { batched, type LayerTable } from "./def.js";

export const SOURCES: Pick<LayerTable, "input" | "const" | "param"> = {
  input: {
    check: ELABORATED.input,
    lower: ({ b, batch }, n) => {
      const { kind, name } = n.attrs;
      if (kind === "image") return batched(b.input(name, [batch, ...n.shape]));
      if (kind === "label") return batched(b.input(name, [batch], "i32"));
      return batched(b.input(name, [batch]));
    },
  },
  const: {
    check: ELABORATED.const,
    lower: ({ b }, n) => ({ v: b.constant(n.attrs.value), batched: false }),
  },
  param: {
    check: BUILTINS.param,
    lower: (cx, n) => ({ v: cx.source(n.params[0].name), batched: false }),
  },
};

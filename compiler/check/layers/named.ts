// Layers named by the user: a tap (a named output of the model) and a param (a named learned tensor).
import type { ParamInit } from "../model-graph.js";
import { shapeText } from "../values.js";
import { T } from "../types.js";
import { num, tensor, type Builtin } from "./signature.js";

export const NAMED = {
  tap: {
    layer: false,
    params: [
      { name: "x", type: T.tensor },
      { name: "name", type: T.str, default: { t: "str", v: "features" } },
    ],
    doc: "Returns x unchanged and exposes it as a named output of the compiled model (in eval mode), e.g. the penultimate features that FID reads: `h = tap(flatten(h), \"features\")`.",
    apply: (ctx, a) => {
      const x = tensor(a.x);
      const name = a.name.t === "str" ? a.name.v : "";
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === "output" || name === "loss") {
        return ctx.error("E0201", `a tap's name must be an identifier other than \`output\` and \`loss\`, found "${name}"`, { span: ctx.argSpan("name") });
      }
      return ctx.node("tap", [x], { name }, [...x.shape], { flops: 0 });
    },
  },
  param: {
    layer: true,
    params: [
      { name: "shape", type: T.ints },
      { name: "init", type: T.enumOf("zeros", "ones", "normal"), default: { t: "str", v: "zeros" } },
    ],
    doc: "A learned tensor of the given per-sample shape, named by `as NAME` (the full parameter name is the path).",
    apply: (ctx, a) => {
      if (!ctx.named) return ctx.error("E0501", "a `param` needs a name", { span: ctx.span, help: "write `param([16, 64]) as scale`" });
      const shape = a.shape.t === "list" ? a.shape.items.map(num) : [];
      if (shape.some((d) => !(d >= 1))) return ctx.error("E0201", `param shape must be positive sizes, found ${shapeText(shape)}`, { span: ctx.argSpan("shape") });
      const init: ParamInit = a.init.t === "str" && a.init.v === "ones" ? { kind: "ones" } : a.init.t === "str" && a.init.v === "normal" ? { kind: "normal", std: 1 } : { kind: "zeros" };
      return ctx.paramNode(shape, init);
    },
  },
} satisfies Record<string, Builtin>;

// Tensor arithmetic: `+ - * /` over tensors and numbers, shaped by the language's broadcasting.
import type { Span } from "../../diagnostics/source.js";
import { broadcastShape } from "../broadcast.js";
import type { ArithKind } from "../layer-kinds.js";
import { describeValue, shapeText, type TensorValue, type Value } from "../values.js";
import type { ElabContext } from "./context.js";

/** Elementwise arithmetic with the language's broadcasting: equal shapes, a scalar (constant or
 *  per-sample), or a vector [C] over the channels of an image / the features of tokens. */
export function tensorArith(cx: ElabContext, op: ArithKind, l: Value, r: Value, span: Span, path: string): Value {
  const asTensor = (v: Value): TensorValue | undefined => {
    if (v.t === "tensor") return v;
    if (v.t === "int" || v.t === "float") return cx.addNode("const", [], { value: v.v }, [], "", span, { flops: 0 });
    return undefined;
  };
  const a = asTensor(l);
  const b = asTensor(r);
  if (!a || !b) return cx.report("E0201", `cannot combine ${describeValue(l)} and ${describeValue(r)}`, { span });
  const broadcast = broadcastShape(a.shape, b.shape);
  if (!broadcast) {
    return cx.report("E0301", `cannot ${({ add: "add", sub: "subtract", mul: "multiply", div: "divide" } as const)[op]} ${describeValue(a)} and ${describeValue(b)}`, {
      span,
      label: `shapes ${shapeText(a.shape)} and ${shapeText(b.shape)}`,
      help: "shapes must be equal, or one side a scalar, or a vector [C] matching the channels",
    });
  }
  const shape = [...broadcast];
  return cx.addNode(op, [a, b], {}, shape, path, span, { flops: shape.reduce((p, d) => p * d, 1) });
}

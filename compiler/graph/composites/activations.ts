// Activations built from primitives.

import type { GraphBuilder } from "../builder.js";
import type { Value } from "../../ir/value.js";

/** x * sigmoid(x) (nn.SiLU). */
export function silu(b: GraphBuilder, x: Value): Value {
  return b.mul(x, b.sigmoid(x));
}

/** Exact GELU, torch's default: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(b: GraphBuilder, x: Value): Value {
  return b.mul(b.mul(0.5, x), b.add(1, b.erf(b.mul(x, Math.SQRT1_2))));
}

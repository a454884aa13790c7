// The node kinds the elaborator makes itself rather than a built-in layer: what decides their shape.
import { broadcastShape } from "../broadcast.js";

export interface ElaboratedRule {
  readonly doc: string;
  /** The result shape from the operands' shapes, where the kind has a rule of its own. */
  readonly shape?: (a: readonly number[], b: readonly number[]) => readonly number[] | undefined;
}

const arithmetic: ElaboratedRule = { doc: "`+ - * /` with a tensor operand (elaborate/arithmetic.ts), broadcast as check/broadcast.ts says", shape: broadcastShape };

export const ELABORATED = {
  input: { doc: "an `input` statement: image [C, H, W], timestep [] or label [] (elaborate/statements.ts)" },
  const: { doc: "a number met in tensor arithmetic: a scalar []" },
  add: arithmetic,
  sub: arithmetic,
  mul: arithmetic,
  div: arithmetic,
} satisfies Record<string, ElaboratedRule>;

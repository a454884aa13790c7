// A handle to one SSA value inside a GraphBuilder. Cheap, immutable, shape-carrying.

import { formatType } from "./shape.js";
import type { DType, Shape, ValueId, ValueType } from "./types.js";

export class Value implements ValueType {
  constructor(
    readonly id: ValueId,
    readonly shape: Shape,
    readonly dtype: DType,
    /** Identifies the builder that made this value, so values from two graphs never mix. */
    readonly owner: number,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `%${this.id}: ${formatType(this)}`;
  }
}

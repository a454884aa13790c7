// The type of one value: element type and static shape. Its own module so that the op kinds
// (kinds.ts, whose params carry shapes and dtypes) and the graph (types.ts, whose nodes carry
// op kinds) both build on it without importing each other.

export type DType = "f32" | "i32";

/** Static shape, outermost axis first ([N, C, H, W]); [] is a scalar. */
export type Shape = readonly number[];

/** What the type checker of the graph knows about a value. */
export interface ValueType {
  readonly shape: Shape;
  readonly dtype: DType;
}

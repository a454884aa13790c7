// The op graph IR: types, builder, printers, verifier and composite helpers.
export type { DType, Shape, ValueId, ValueType, SourceRole, SourceNode, OpNode, OpNodeOf, Node, Graph, GraphOutput } from "./types.js";
export { isSource, SOURCE_ROLES } from "./types.js";
export { GraphBuilder } from "./builder.js";
export type { Operand, BuildOptions } from "./builder.js";
export { Value } from "./value.js";
export type { Tensor, TensorData, FloatArray } from "./tensor.js";
export { tensor, dtypeOfData } from "./tensor.js";
export { numel, stridesOf, shapesEqual, broadcastShapes, formatShape, formatType } from "./shape.js";
export { printGraph, formatNode, opCounts, formatOpCounts } from "./printer.js";
export type { PrintOptions } from "./printer.js";
export { toDot } from "./dot.js";
export { verifyGraph, GraphVerifyError } from "./verify.js";
export * as composites from "./composites/index.js";

// The op graph IR: types, builder, printers, verifier and composite helpers.
export type { DType, Shape, ValueId, ValueType, SourceRole, SourceNode, OpNode, OpNodeOf, Node, Graph, GraphOutput } from "../ir/types.js";
export { isSource, SOURCE_ROLES } from "../ir/types.js";
export { GraphBuilder } from "./builder.js";
export type { Operand, BuildOptions } from "./builder.js";
export { Value } from "../ir/value.js";
export type { Tensor, TensorData, FloatArray } from "../ir/tensor.js";
export { tensor, dtypeOfData } from "../ir/tensor.js";
export { numel, stridesOf, shapesEqual, broadcastShapes, formatShape, formatType } from "../ir/shape.js";
export { printGraph, formatNode, opCounts, formatOpCounts } from "../ir/printer.js";
export type { PrintOptions } from "../ir/printer.js";
export { toDot } from "../ir/dot.js";
export { verifyGraph, GraphVerifyError } from "./verify.js";
export * as composites from "./composites/index.js";

// The op graph: SSA values with static shapes, in topological order.
//
// Every value is produced by exactly one node. Source nodes (graph inputs) carry a
// role and a name; op nodes carry an op kind from the primitive registry, its typed
// params and the ids of their inputs. `nodes` is in definition order: every input of
// a node is defined earlier in the array (verifyGraph checks this).

import type { OpKind, OpParams } from "./kinds.js";
import type { ValueType } from "./value-type.js";

export type { DType, Shape, ValueType } from "./value-type.js";

export type ValueId = number;

/**
 * Graph inputs:
 * - input:  data fed per step (x, t, c, target, ...)
 * - param:  trainable weights, named by dotted path (`downs.1.resnets.0.conv1.2.weight`)
 * - buffer: non-trainable state (BatchNorm running stats, optimizer moments)
 * - scalar: runtime hyper-parameters with shape [] (lr, step, ...)
 */
export type SourceRole = "input" | "param" | "buffer" | "scalar";
export const SOURCE_ROLES: readonly SourceRole[] = ["input", "param", "buffer", "scalar"];

export interface SourceNode extends ValueType {
  readonly id: ValueId;
  readonly op: SourceRole;
  readonly name: string;
  readonly label?: string;
}

export interface OpNodeOf<K extends OpKind> extends ValueType {
  readonly id: ValueId;
  readonly op: K;
  readonly inputs: readonly ValueId[];
  readonly params: OpParams<K>;
  /** Where the node came from (a model-level layer path), for printing and debugging. */
  readonly label?: string;
}

/** Discriminated union over every op kind, so `switch (node.op)` narrows params. */
export type OpNode = { [K in OpKind]: OpNodeOf<K> }[OpKind];

export type Node = SourceNode | OpNode;

export interface GraphOutput {
  readonly name: string;
  readonly value: ValueId;
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

export function isSource(node: Node): node is SourceNode {
  return (SOURCE_ROLES as readonly string[]).includes(node.op);
}

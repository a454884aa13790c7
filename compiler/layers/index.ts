// The table of layer definitions, one per node kind of a checked model (check/layer-kinds.ts):
// the type requires every kind to have its checker's half and its lowering.
import { ACTIVATIONS } from "./activations.js";
import { ARITHMETIC } from "./arithmetic.js";
import { ATTENTION } from "./attention.js";
import { CONVOLUTION } from "./convolution.js";
import type { LayerTable } from "./def.js";
import { LINEAR } from "./linear.js";
import { NAMED } from "./named.js";
import { NORMS } from "./norms.js";
import { RESHAPING } from "./reshaping.js";
import { SOURCES } from "./sources.js";

export type { LayerDef, LayerTable, LowerCtx, Lowered, LowerRule } from "./def.js";

export const LAYER_DEFS: LayerTable = {
  ...SOURCES,
  ...ARITHMETIC,
  ...CONVOLUTION,
  ...LINEAR,
  ...NORMS,
  ...ACTIVATIONS,
  ...RESHAPING,
  ...ATTENTION,
  ...NAMED,
};

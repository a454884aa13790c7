// Limits that bound the checker's time and stack on any input, however pathological. Reaching one
// is an E0604 error, and checking stops there: what would follow is only a consequence.

/** Statements run and loop iterations, over the whole model (a real model takes about a thousand). */
export const MAX_STEPS = 1_000_000;
/** Layer nodes created (a real model has a few hundred; each costs about 10 us to check). */
export const MAX_NODES = 100_000;
/** Items of one `range(...)`. */
export const MAX_RANGE = 10_000;
/** Nested block calls (a block that calls itself without end). */
export const MAX_CALL_DEPTH = 64;
/** Nested expression evaluations and statement blocks, block calls included. Each level costs a
 *  few JavaScript frames; the parser already bounds how deeply one expression nests, so this is
 *  reached only by long `|>` chains or nesting compounded across block calls. */
export const MAX_EVAL_DEPTH = 300;

/** Thrown inside the elaborator after an error that ends checking (E0604, E0602); caught in `run`. */
export class Abort extends Error {
  constructor() {
    super("checking stopped");
    this.name = "Abort";
  }
}

/** `1234567` as `1,234,567`, for limits in messages. */
export const thousands = (n: number) => n.toLocaleString("en-US");

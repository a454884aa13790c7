// The parser's nesting limit, which keeps deep input from overflowing the call stack.
import type { IToken } from "chevrotain";

/** How deep rules may nest (Chevrotain's rule stack). Each level costs a few JavaScript frames, so
 *  unbounded input (`((((...))))`, `- - - 1`, `if` in `if` in `if`) would overflow the call stack;
 *  past this depth the parser stops and parseText reports where. About 35 nested parentheses (an
 *  expression level is 14 rules), 160 nested `if`s or 500 prefix `-`: far beyond any real spec. */
export const MAX_PARSE_DEPTH = 500;

/** Thrown out of the parser when input nests deeper than MAX_PARSE_DEPTH; caught in parseText. */
export class NestingTooDeep extends Error {
  constructor(
    readonly token: IToken,
    readonly what: "expression" | "statement" | "type",
  ) {
    super(`${what} nests too deeply`);
  }
}

export { runGraph, refContext } from "./interpreter.js";
export type { Feed, Precision, RunOptions, RunResult } from "./interpreter.js";

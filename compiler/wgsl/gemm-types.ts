// The GEMM generator's descriptions (compiler/wgsl/gemm.ts): tiles, operands, the spec.

export interface GemmTiles {
  /** Output rows (m) per workgroup. */
  readonly bm: number;
  /** Output columns (n) per workgroup. */
  readonly bn: number;
  /** Reduction depth staged in workgroup memory per step. */
  readonly bk: number;
  /** Register block per thread: tm rows x tn columns. */
  readonly tm: number;
  readonly tn: number;
  /**
   * Give the inner loop over the staged BK its constant trip count, so the driver may unroll
   * it. Off by default: lavapipe then unrolls it and a kernel's first dispatch compiles 2-5x
   * longer (seconds); a GPU driver may prefer it on.
   */
  readonly unroll?: boolean;
  /**
   * No workgroup memory (compiler/wgsl/gemm-direct.ts): each invocation reads its operands
   * through the gathers and holds all BM rows (tm = bm; bk unused). For CPU adapters.
   */
  readonly direct?: boolean;
}

export interface GemmOperand {
  /** Which index consecutive threads walk when loading a tile: the operand's m/n axis, or k. */
  readonly fast: "x" | "k";
  /** WGSL type of the per-row (A) or per-column (B) state. */
  readonly state: string;
  /** Body of `fn col(b: u32, x: u32) -> state`. */
  readonly col: string;
  /** Body of `fn at(s: state, k: u32) -> f32`. */
  readonly at: string;
}

export interface GemmSpec {
  /** The op, for the kernel's header comment and for tile choosers. */
  readonly op: string;
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: GemmOperand;
  readonly b: GemmOperand;
  /**
   * Split-K chunk: batch b sums over k in [b * splitK, min((b + 1) * splitK, K)) only (`col`
   * and `at` still see the global k). Unset: every batch sums over all of K.
   */
  readonly splitK?: number;
  /** Body of `fn store(b: u32, m: u32, n: u32, v: f32)`, called only for m < M, n < N. */
  readonly store: string;
  /** WGSL declared before the functions: bindings, structs, helpers. */
  readonly prelude: string;
}

/** The op's prelude and its gathers and store as WGSL functions: what every GEMM layout calls. */
export function gemmFunctions(spec: GemmSpec): string {
  return `${spec.prelude}

fn colA(b: u32, x: u32) -> ${spec.a.state} {
${spec.a.col}
}
fn atA(s: ${spec.a.state}, k: u32) -> f32 {
${spec.a.at}
}
fn colB(b: u32, x: u32) -> ${spec.b.state} {
${spec.b.col}
}
fn atB(s: ${spec.b.state}, k: u32) -> f32 {
${spec.b.at}
}
fn store(b: u32, m: u32, n: u32, v: f32) {
${spec.store}
}
`;
}

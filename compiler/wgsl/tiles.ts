// A GEMM's tile configuration (compiler/wgsl/gemm.ts), and a tuner's table of them: apart from
// the generator so that kernel.ts can name them without importing it.

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
  /**
   * Direct tiles only: A's rows reach the lanes by `subgroupBroadcast` (WGSL `subgroups`): lane
   * l loads row 8g + l of each group g of 8 rows and every lane takes row i from lane i % 8, so
   * a K step loads BM/8 elements of A per lane instead of BM. Needs 8 invocations per workgroup
   * (bn/tn = 8) in one subgroup of at least 8 lanes, and tm a multiple of 8.
   */
  readonly broadcast?: boolean;
}

/** Tuned GEMM tiles by gemmSignature (gemm-types.ts): a tuner's table for one adapter. */
export type TileTable = Readonly<Record<string, GemmTiles>>;

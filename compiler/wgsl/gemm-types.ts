// The GEMM generator's descriptions (compiler/wgsl/gemm.ts): tiles, operands, the spec.
import type { Dims } from "./dims.js";
import type { Epilogue } from "./kernel.js";

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

export interface GemmOperand {
  /** Which index consecutive threads walk when loading a tile: the operand's m/n axis, or k. */
  readonly fast: "x" | "k";
  /** WGSL type of the per-row (A) or per-column (B) state. */
  readonly state: string;
  /** Body of `fn col(b: u32, x: u32) -> state`. */
  readonly col: string;
  /** Body of `fn at(s: state, k: K) -> f32`, where K is the spec's kWalk state (or u32, k itself). */
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
  /**
   * What the gathers see of the reduction index: a `state` decoded from k by `at` (body of
   * `fn kAt(k: u32) -> state`) and advanced to k + 1 by `next` (body of `fn kNext(k: state) ->
   * state`), so a layout that walks k in order decodes it once and then only steps it (the
   * weight gradient's k is a pixel: a division by the image size each, against a few adds).
   * Absent: the state is k itself.
   */
  readonly kWalk?: { readonly state: string; readonly at: string; readonly next: string };
  /**
   * Body of `fn store(b: u32, m: u32, n: u32, v: f32)`, called only for m < M, n < N: it writes
   * v with `write(index, v)`, which applies the epilogue where there is one.
   */
  readonly store: string;
  /** WGSL declared before the functions: bindings, structs, helpers. */
  readonly prelude: string;
  /**
   * The sizes the op's functions read (`dims.x`); the generator adds its own (m, n, k, tile
   * counts) and declares the uniform at `dimsBinding`, the binding after the output.
   */
  readonly dims: Dims;
  readonly dimsBinding: number;
  /** `fn epilogue(v: f32, i: u32) -> f32` (KernelRequest.epilogue), applied by `write`. */
  readonly epilogue?: string;
}

/**
 * The op's prelude, the Dims uniform and the op's gathers and store as WGSL functions: what
 * every GEMM layout calls. Call it after the layout has registered its own dims.
 */
export function gemmFunctions(spec: GemmSpec): string {
  const walk = spec.kWalk ?? { state: "u32", at: "  return k;", next: "  return k + 1u;" };
  return `${spec.prelude}
${spec.dims.declare(spec.dimsBinding)}

fn kAt(k: u32) -> ${walk.state} {
${walk.at}
}
fn kNext(k: ${walk.state}) -> ${walk.state} {
${walk.next}
}
fn colA(b: u32, x: u32) -> ${spec.a.state} {
${spec.a.col}
}
fn atA(s: ${spec.a.state}, k: ${walk.state}) -> f32 {
${spec.a.at}
}
fn colB(b: u32, x: u32) -> ${spec.b.state} {
${spec.b.col}
}
fn atB(s: ${spec.b.state}, k: ${walk.state}) -> f32 {
${spec.b.at}
}
${spec.epilogue ?? ""}
fn write(i: u32, v: f32) {
  out[i] = ${spec.epilogue ? "epilogue(v, i)" : "v"};
}
fn store(b: u32, m: u32, n: u32, v: f32) {
${spec.store}
}
`;
}

/** The generator's own sizes, as `dims.` expressions: M, N, K, the split-K chunk and tile counts. */
export function gemmDims(spec: GemmSpec, tiles: GemmTiles) {
  const d = spec.dims;
  const tilesM = Math.ceil(spec.m / tiles.bm);
  const tilesN = Math.ceil(spec.n / tiles.bn);
  const total = tilesM * tilesN * spec.batch;
  return {
    total,
    m: d.u("m", spec.m),
    n: d.u("n", spec.n),
    k: d.u("k", spec.k),
    chunk: d.u("chunk", spec.splitK ?? spec.k),
    tiles: d.u("tiles", total),
    tilesN: d.u("tiles_n", tilesN),
    tilesM: d.u("tiles_m", tilesM),
    tilesMN: d.u("tiles_mn", tilesM * tilesN),
  };
}

/**
 * Where a GEMM op's Dims uniform is bound and its epilogue's WGSL, for an op of `inputs` own
 * inputs: the epilogue's inputs are bound after those, then the output, then the Dims.
 */
export function gemmBindings(inputs: number, dims: Dims, epilogue?: Epilogue): Pick<GemmSpec, "dims" | "dimsBinding" | "epilogue"> {
  return { dims, dimsBinding: inputs + (epilogue?.inputs.length ?? 0) + 1, ...(epilogue ? { epilogue: epilogue.code(inputs, dims) } : {}) };
}

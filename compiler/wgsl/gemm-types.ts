// The GEMM generator's descriptions (compiler/wgsl/gemm.ts): tiles, operands, the spec.
import type { Dims } from "./dims.js";
import type { Epilogue } from "./kernel.js";
import type { GemmTiles } from "./tiles.js";

export type { GemmTiles } from "./tiles.js";

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
   * Without split-K: WGSL for batch `b`'s own K extent (at most K), where batches sum over
   * different lengths (the strided input gradient's phases, conv-wgsl.ts). Unset: K.
   */
  readonly kEnd?: string;
  /**
   * What the gathers see of the reduction index: a `state` decoded from k by `at` (body of
   * `fn kAt(b: u32, k: u32) -> state`, b the batch) and advanced to k + 1 by `next` (body of
   * `fn kNext(k: state) -> state`), so a layout that walks k in order decodes it once and then
   * only steps it (the weight gradient's k is a pixel: a division by the image size each,
   * against a few adds). Absent: the state is k itself.
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

fn kAt(b: u32, k: u32) -> ${walk.state} {
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

/** FNV-1a of a string, as 8 hex digits: short keys for long WGSL. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * What a tuned tile choice is keyed by (a tuner's table, runtime/webgpu/tile-cache.ts): the op,
 * its sizes, the split-K chunk and a hash of its gathers (a conv's stride, kernel and padding
 * live there). The epilogue is left out: it costs the store alone, whatever the tiles. A
 * change to a gather's WGSL changes the key, so a table tuned for old code is not applied.
 */
export function gemmSignature(spec: GemmSpec): string {
  const walk = spec.kWalk ? spec.kWalk.at + spec.kWalk.next : "";
  const gathers = fnv1a([spec.a.col, spec.a.at, spec.b.col, spec.b.at, walk, ...(spec.kEnd ? [spec.kEnd] : [])].join("\n"));
  return `${spec.op} ${spec.batch}x${spec.m}x${spec.n}x${spec.k}${spec.splitK !== undefined ? ` split ${spec.splitK}` : ""} #${gathers}`;
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

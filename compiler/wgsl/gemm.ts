// A tiled GEMM kernel generator shared by matmul and the three convolutions:
//
//   C[b, m, n] = sum_k A(b, m, k) * B(b, k, n)      b < batch, m < M, n < N, k < K
//
// where A and B are not arrays but gathers the op supplies as WGSL functions (a strided matrix
// for matmul, an on-the-fly im2col for the convolutions: "implicit GEMM"), and the op writes
// each result through its own `store`. The op describes an operand by
//   - `col(b, x) -> State`: per-row state of A (x = m) or per-column state of B (x = n), computed
//     once per thread outside the K loop (a base offset, decoded pixel coordinates), and
//   - `at(state, k) -> f32`: the element at reduction index k, 0 where the gather falls into
//     padding. It is called with x and k clamped into the matrix (the generator zeroes what
//     lies outside), so it must only be safe for in-range indices.
//
// Design (one workgroup per BM x BN output tile, WGX x WGY = (BN/TN) x (BM/TM) threads):
//   - K is walked in steps of BK; each step stages A [BK, BM] and B [BK, BN] in workgroup
//     memory (zero outside the matrix, so edges need no other care), k-major, rows padded by
//     one float so that stores along k do not all hit one bank.
//   - Each thread keeps a TM x TN register block of C: rows ty + i*WGY, columns tx + j*WGX
//     (strided, so a warp reads consecutive floats from the tiles and stores consecutive
//     outputs), and does TM*TN fmas per TM + TN workgroup-memory reads.
//   - Tile loads: consecutive threads walk the operand's contiguous axis (`fast`), so global
//     reads coalesce for row-major operands and for im2col gathers along output pixels.
//   - The (tileN, tileM, batch) grid is flattened and folded into 2-D to stay under
//     maxComputeWorkgroupsPerDimension.
//   - Split-K: with `splitK`, batch b reduces only over k in [b*splitK, min((b+1)*splitK, K)),
//     so one GEMM with a long K and a small output runs as `batch` independent partial GEMMs
//     (more workgroups); the op sums the partial results afterwards.
// Tile sizes are parameters (constants in the generated code) so a tuner can pick them per
// adapter; `defaultTiles` is the fallback. M, N, K and the tile counts are read from the
// kernel's Dims uniform (dims.ts), as are the op's own sizes: one pipeline per op variant
// and tile configuration, whatever the shape. Tiles with `direct` select the unstaged kernel of
// gemm-direct.ts instead (no workgroup memory): what software adapters (lavapipe) get.
import type { KernelLimits, KernelSource } from "./kernel.js";
import { grid } from "./wgsl.js";
import { gemmDims, gemmFunctions, gemmSignature, type GemmOperand, type GemmSpec, type GemmTiles } from "./gemm-types.js";
import { checkDirectTiles, gemmDirectKernel } from "./gemm-direct.js";

export type { GemmOperand, GemmSpec, GemmTiles } from "./gemm-types.js";
export { gemmBindings, gemmSignature } from "./gemm-types.js";

/** Largest workgroup-memory use allowed (the WebGPU default limit). */
export const GEMM_MAX_SHARED_BYTES = 16384;

/** Workgroup memory of a tile configuration, in bytes. */
export function sharedBytes(t: GemmTiles): number {
  if (t.direct) return 0;
  return 4 * t.bk * (t.bm + 1 + t.bn + 1);
}

export function checkTiles(t: GemmTiles): void {
  if (t.direct) return checkDirectTiles(t);
  const wgx = t.bn / t.tn;
  const wgy = t.bm / t.tm;
  const threads = wgx * wgy;
  const bad = (why: string) => new Error(`internal error: GEMM tiles ${JSON.stringify(t)}: ${why}`);
  if (!Number.isInteger(wgx) || !Number.isInteger(wgy)) throw bad("bm/tm and bn/tn must be integers");
  if (threads > 256) throw bad(`${threads} threads per workgroup, more than 256`);
  if ((t.bm * t.bk) % threads || (t.bn * t.bk) % threads) throw bad("each tile must split evenly over the threads");
  if (sharedBytes(t) > GEMM_MAX_SHARED_BYTES) throw bad(`${sharedBytes(t)} bytes of workgroup memory, more than ${GEMM_MAX_SHARED_BYTES}`);
}

/** 64x64 tiles, 4x4 per thread, 256 threads. */
export const TILES_64: GemmTiles = { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
/**
 * 32x32 tiles, 2x2 per thread, 256 threads: four times the workgroups for small outputs.
 * BK 8 keeps one staged element per thread and operand: on lavapipe the first dispatch
 * compiles in ~0.5 s, against ~1 s for BK 16 or for 4x4 blocks on 64 threads.
 */
export const TILES_32: GemmTiles = { bm: 32, bn: 32, bk: 8, tm: 2, tn: 2 };

/** TILES_64 with a constant-trip inner loop: faster on GPU drivers, slow to compile on lavapipe. */
export const TILES_64_UNROLLED: GemmTiles = { ...TILES_64, unroll: true };

/** What a tile chooser sees of a GEMM. */
export type GemmShape = Pick<GemmSpec, "op" | "batch" | "m" | "n" | "k">;
/** `limits` is absent where a caller has none (then choose as for a software adapter without subgroups). */
export type TileChooser = (g: GemmShape, limits?: KernelLimits) => GemmTiles;

/**
 * Direct (unstaged) tiles for CPU adapters: `bm` rows x `bn` columns, `tn` columns per
 * invocation; `broadcast` where the rows come in groups of 8 (see GemmTiles.broadcast).
 */
const directTiles = (bm: number, bn: number, tn: number): GemmTiles => ({ bm, bn, bk: 1, tm: bm, tn, direct: true, ...(bm % 8 === 0 && bn / tn === 8 ? { broadcast: true } : {}) });
/**
 * The software adapters' tiles: direct GEMMs, one SIMD vector (8 invocations) per workgroup,
 * A's rows by subgroupBroadcast. lavapipe (Mesa 25.0.7), bench/kernels-real.ts over the GEMMs of
 * the lesson's S step at batch 32, ms per step (count x kernel) of the conv and matmul shapes
 * with N > 16 and M >= 16: 2872 with the unbroadcast 8x32/8x4 before, broadcast 16x32/16x4
 * 1399, 32x16/32x2 1637, 16x16/16x2 1665, 8x32/8x4 1852, 16x8/16x1 2390. 16x32/16x4 (2 + 4
 * gathers a K step for 64 FMAs) was long passed over because its 64 accumulators compiled ~2.5x
 * longer (0.7 s a pipeline) while the tile's stores were straight-line code; since the stores
 * are a loop (gemm-direct.ts) it costs no more first step than 16x16/16x2: config S cold
 * (`MESA_SHADER_CACHE_DISABLE=true`, bench/step.ts, two runs each) first step 7.29-7.54 s with
 * 16x16/16x2 and 7.54-7.73 s with 16x32/16x4, then 2,314-2,356 against 1,932-1,977 ms a step
 * (1.18x), and `unetc tune` picked it for most large GEMMs of S and M. With N <= 16 16x16/16x2
 * (2.5 ms against 6.6 before); with N <= 8 the columns a lane would hold past N are waste:
 * 16x8/16x1. Without broadcast rows (no subgroups, or subgroups of 4: lavapipe on SSE) a lane
 * loads all of A's rows itself, and 16x16/16x2 stays. M < 5 keeps unbroadcast rows (pow2 >= M):
 * a group of 8 would load rows past M for nothing (10 ms unbroadcast, 18-51 broadcast).
 */
export const TILES_CPU = directTiles(16, 32, 4);
export const TILES_CPU_N8 = directTiles(16, 8, 1);
export const TILES_CPU_N16 = directTiles(16, 16, 2);

const pow2AtLeast = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/**
 * The fallback when nothing was tuned. Hardware adapters: 64x64 tiles unless that leaves
 * fewer than 128 workgroups (a GPU has ~100 cores), then 32x32; the 64x64 tiles get the
 * unrolled inner loop (H200: conv2d x [64,64,32,32] w [64,64,3,3] 0.21 ms against 0.33 ms).
 * Software adapters: the direct tiles above by N and by whether rows can be broadcast, with no
 * more rows than M needs (M = 1..8: the weight gradient of a 1-channel conv, tiny linears).
 */
export const defaultTiles: TileChooser = ({ batch, m, n }, limits) => {
  if (!limits?.hardware) {
    // broadcast rows need subgroups of at least the workgroup's 8 lanes (lavapipe on AVX2 has 8; on SSE, 4)
    const broadcast = (limits?.subgroupMinSize ?? 0) >= 8;
    const base = n <= 8 ? TILES_CPU_N8 : n <= 16 || !broadcast ? TILES_CPU_N16 : TILES_CPU;
    const t = m >= base.bm ? base : directTiles(pow2AtLeast(m), base.bn, base.tn);
    if (!t.broadcast || broadcast) return t;
    const { broadcast: _, ...rows } = t;
    return rows;
  }
  const count = (t: GemmTiles) => batch * Math.ceil(m / t.bm) * Math.ceil(n / t.bn);
  if (count(TILES_64) < 128) return TILES_32;
  return TILES_64_UNROLLED;
};

/**
 * What a tuner times (runtime/session/tune.ts) on this adapter, each forced on every GEMM of a
 * step. Software adapters: the broadcast direct tiles around the default 16x32/16x4 (fewer
 * columns a lane, more rows, fewer of either). On lavapipe (2 cores, AVX2) 16x32/16x4 won most
 * large convolutions of the lesson's step, 32x16/32x2 some input gradients (bench/RESULTS.md). Hardware: the staged tiles, 64x64 with and without
 * the unrolled inner loop and 32x32. Only those that fit the adapter (tilesFit).
 */
export function tileCandidates(limits: KernelLimits): GemmTiles[] {
  const candidates = limits.hardware
    ? [TILES_64_UNROLLED, TILES_64, TILES_32]
    : [directTiles(16, 16, 2), directTiles(16, 32, 4), directTiles(8, 32, 4), directTiles(32, 16, 2), directTiles(16, 8, 1)];
  return candidates.filter((t) => tilesFit(t, limits));
}

let chooser: TileChooser = defaultTiles;

/**
 * Replaces how templates pick tiles when none are passed (a tuner's per-adapter table; tests
 * that cover other configurations); no argument restores `defaultTiles`.
 */
export function setTileChooser(c: TileChooser = defaultTiles): void {
  chooser = c;
}

const u = (x: number) => `${x}u`;

/**
 * Statements that stage one operand's [BK, extent] tile into `tile{name}` (k-major, rows of
 * extent + 1): `setup` runs once per thread before the K loop (the `col` states), `load` once
 * per K step. Thread `lid` loads elements e = lid + l * threads, l < extent * BK / threads.
 */
function tileLoads(name: "A" | "B", op: GemmOperand, extent: number, size: string, kSize: string, bk: number, threads: number, split: boolean): { setup: string; load: string } {
  const origin = name === "A" ? "m0" : "n0";
  const setup: string[] = [];
  const load: string[] = [];
  // When the thread count is a multiple of the fast axis, a thread's loads share their
  // offset along it: one column (fast x: one state for all loads) or one k (fast k).
  const sameX = op.fast === "x" && threads % extent === 0;
  const sameK = op.fast === "k" && threads % bk === 0;
  for (let l = 0; l < (extent * bk) / threads; l++) {
    const e = `(lid + ${u(l * threads)})`;
    let xx: string;
    let kk: string;
    if (op.fast === "x") {
      xx = sameX ? `(lid % ${u(extent)})` : `(${e} % ${u(extent)})`;
      kk = sameX ? `(lid / ${u(extent)} + ${u(l * (threads / extent))})` : `(${e} / ${u(extent)})`;
    } else {
      kk = sameK ? `(lid % ${u(bk)})` : `(${e} % ${u(bk)})`;
      xx = sameK ? `(lid / ${u(bk)} + ${u(l * (threads / bk))})` : `(${e} / ${u(bk)})`;
    }
    const v = sameX ? "0" : `${l}`; // which state this load uses
    if (!sameX || l === 0) {
      setup.push(`  let x${name}${l} = ${origin} + ${xx};`);
      setup.push(`  let s${name}${l} = col${name}(b, min(x${name}${l}, ${size} - 1u));`);
    }
    // clamped indices keep every read in bounds; the select zeroes the tile outside the matrix
    load.push(`    { let kk = ${kk}; let k = ${split ? "kBase + " : ""}k0 + kk;`);
    load.push(`      let v = at${name}(s${name}${v}, kAt(b, min(k, ${kSize} - 1u)));`);
    load.push(`      tile${name}[kk * ${u(extent + 1)} + ${xx}] = select(0.0, v, x${name}${v} < ${size} && k < ${split ? "kEnd" : kSize}); }`);
  }
  return { setup: setup.join("\n"), load: load.join("\n") };
}

/**
 * Whether `t` can run on an adapter with these limits: legal tiles (checkTiles), and subgroups
 * of the workgroup's 8 lanes where rows come by broadcast. What a tuned table is checked with.
 */
export function tilesFit(t: GemmTiles, limits: KernelLimits): boolean {
  try {
    checkTiles(t);
  } catch {
    return false;
  }
  return !t.broadcast || (limits.subgroupMinSize ?? 0) >= t.bn / t.tn;
}

/** The kernel for `spec` with tile configuration `tiles` (by default: the tuned table's, else the chooser's). */
export function gemmKernel(spec: GemmSpec, limits: KernelLimits, tiles?: GemmTiles): KernelSource {
  const signature = gemmSignature(spec);
  const tuned = limits.tiles?.[signature];
  const t = tiles ?? (tuned && tilesFit(tuned, limits) ? tuned : chooser(spec, limits));
  return { ...gemmKernelWith(spec, limits, t), gemm: { signature, tiles: t } };
}

function gemmKernelWith(spec: GemmSpec, limits: KernelLimits, tiles: GemmTiles): KernelSource {
  checkTiles(tiles);
  const split = spec.splitK !== undefined;
  const chunk = spec.splitK ?? spec.k;
  if (split && !(Number.isInteger(chunk) && chunk >= 1 && (spec.batch - 1) * chunk < spec.k && spec.batch * chunk >= spec.k)) {
    throw new Error(`internal error: split-K chunk ${chunk} does not cut K ${spec.k} into ${spec.batch} parts`);
  }
  if (tiles.direct) return gemmDirectKernel(spec, limits, tiles);
  const { bm, bn, bk, tm, tn } = tiles;
  const wgx = bn / tn;
  const wgy = bm / tm;
  const threads = wgx * wgy;
  const d = gemmDims(spec, tiles);
  // a batch's own K extent (spec.kEnd): the staged tiles are zero past it
  const kSize = spec.kEnd && !split ? "kEnd" : d.k;
  const a = tileLoads("A", spec.a, bm, d.m, kSize, bk, threads, split);
  const b = tileLoads("B", spec.b, bn, d.n, kSize, bk, threads, split);
  const range = (n: number) => [...Array(n).keys()];
  const acc = range(tm).map((i) => `  ${range(tn).map((j) => `var c${i}_${j} = 0.0;`).join(" ")}`).join("\n");
  const fma = range(tm)
    .map((i) => {
      const line = range(tn).map((j) => `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`).join(" ");
      return `      let a${i} = tileA[ka + ty + ${u(i * wgy)}];\n      ${line}`;
    })
    .join("\n");
  const bRegs = range(tn).map((j) => `      let b${j} = tileB[kb + tx + ${u(j * wgx)}];`).join("\n");
  const stores = range(tm)
    .map((i) =>
      range(tn)
        .map((j) => `  if (m0 + ty + ${u(i * wgy)} < ${d.m} && n0 + tx + ${u(j * wgx)} < ${d.n}) { store(b, m0 + ty + ${u(i * wgy)}, n0 + tx + ${u(j * wgx)}, c${i}_${j}); }`)
        .join("\n"),
    )
    .join("\n");
  // Loop bounds. lavapipe unrolls loops whose trip count it knows, and each unrolled copy of
  // the K loop (it holds barriers) costs about a second of shader compilation; the bounds are
  // uniforms (dims), so only `unroll` gives the inner loop a constant trip count (the staged
  // tile is zero past K, so BK is as correct). With split-K the loop walks one chunk; the
  // staged tile is zero past the chunk's end.
  const steps = Math.ceil(chunk / bk);
  const kLoop = steps === 1 ? "  { let k0 = 0u;" : `  let kLen = ${kSize === "kEnd" ? "kEnd" : d.chunk};\n  for (var k0 = 0u; k0 < kLen; k0 += ${u(bk)}) {`;
  const kkBound = tiles.unroll ? u(bk) : steps === 1 ? d.chunk : `min(${u(bk)}, kLen - k0)`;
  const kRange = split ? `\n  let kBase = b * ${d.chunk};\n  let kEnd = min(kBase + ${d.chunk}, ${d.k});` : kSize === "kEnd" ? `\n  let kEnd = ${spec.kEnd};` : "";
  const code = `// ${spec.op} as GEMM${split ? " split along K" : ""}, tiles ${bm}x${bn}x${bk}, ${tm}x${tn} per thread; sizes in dims
${gemmFunctions(spec)}
var<workgroup> tileA: array<f32, ${bk * (bm + 1)}>; // [BK, BM + 1]
var<workgroup> tileB: array<f32, ${bk * (bn + 1)}>; // [BK, BN + 1]

@compute @workgroup_size(${wgx}, ${wgy})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= ${d.tiles}) { return; }
  let n0 = (tile % ${d.tilesN}) * ${u(bn)};
  let m0 = ((tile / ${d.tilesN}) % ${d.tilesM}) * ${u(bm)};
  let b = tile / ${d.tilesMN};${kRange}
  let tx = lid3.x;
  let ty = lid3.y;
${a.setup}
${b.setup}
${acc}
${kLoop}
${a.load}
${b.load}
    workgroupBarrier();
    for (var kk = 0u; kk < ${kkBound}; kk++) {
      let ka = kk * ${u(bm + 1)};
      let kb = kk * ${u(bn + 1)};
${bRegs}
${fma}
    }
    workgroupBarrier();
  }
${stores}
}
`;
  return { code, workgroups: grid(d.total, limits, 1), uniforms: spec.dims.words() };
}

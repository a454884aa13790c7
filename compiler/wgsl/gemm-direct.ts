// The GEMM without workgroup memory, for CPU adapters (lavapipe): one workgroup per BM x BN
// output tile of BN/TN invocations along n, each invocation holding all BM rows (TM = BM) of
// TN columns (n0 + tx + j * wgx) in registers, reading A and B straight through the op's
// gathers with no staging and no barriers.
//
// Why this shape on lavapipe: a workgroup runs on one CPU thread with its invocations as
// 8-wide SIMD lanes, so workgroup memory is no faster than the (cached) operands, and a
// staged tile only adds a store, a barrier and a per-lane load.
// What a load costs there (Mesa 25.0.7 / LLVM 15, read with GALLIVM_DEBUG=asm): every storage
// load in the K loop, A's too although its index is the same in every lane, is a scalarised
// gather, per lane a test of the exec mask, a reload of the buffer's base and size, a bounds
// test and a scalar load (~12 instructions, two branches), so a K step of TM x TN is
// 8 * (TM + TN) such loads for TM * TN vector FMAs, and the loads are ~90% of the time (the
// 8x32 conv2d [64x576]x[576x2048]: 27.9 ms, 7.3 ms with its loads replaced by arithmetic).
// Hence `broadcast` (the software default): lane l loads row 8g + l and `subgroupBroadcast`
// hands row i to every lane (an extract and a broadcast), so A costs TM/8 gathers a step
// instead of TM: 27.9 -> 14.7 ms at 8x32, 11.2 ms at 16x32 (16 rows x 4 columns a lane).
// It needs the device's `subgroups` feature with subgroups of >= 8 lanes (lavapipe on AVX2:
// exactly 8; runtime/webgpu/device.ts requests the feature where the adapter has it).
// Hoisting the conv's tap decode and padding test out of the inner loop (taps outside,
// channels inside) was tried on top and gained nothing measurable (10-12 ms either way).
// Rows past M and columns past N are clamped into the matrix (computed, never stored), and
// the K loop walks exactly [kBegin, kEnd), so the inner loop has no bounds checks.
import { gemmDims, gemmFunctions, type GemmSpec, type GemmTiles } from "./gemm-types.js";
import type { KernelLimits, KernelSource } from "./kernel.js";
import { grid } from "./wgsl.js";

const u = (x: number) => `${x}u`;

export function checkDirectTiles(t: GemmTiles): void {
  const bad = (why: string) => new Error(`internal error: direct GEMM tiles ${JSON.stringify(t)}: ${why}`);
  if (t.tm !== t.bm) throw bad("a direct GEMM keeps all BM rows per invocation (tm = bm)");
  if (!Number.isInteger(t.bn / t.tn)) throw bad("bn/tn must be an integer");
  if (t.bn / t.tn > 256) throw bad("more than 256 invocations per workgroup");
  if (t.tm * t.tn > 64) throw bad("more than 64 accumulators per invocation");
  if (t.broadcast && (t.bn / t.tn !== 8 || t.tm % 8 !== 0)) throw bad("broadcast rows need 8 invocations and tm a multiple of 8");
}

export function gemmDirectKernel(spec: GemmSpec, limits: KernelLimits, tiles: GemmTiles): KernelSource {
  checkDirectTiles(tiles);
  const split = spec.splitK !== undefined;
  const { bm, bn, tm, tn } = tiles;
  const wgx = bn / tn;
  const bc = tiles.broadcast === true;
  const d = gemmDims(spec, tiles);
  const range = (n: number) => [...Array(n).keys()];
  const groups = bc ? range(tm / 8) : [];
  // A's states: one per row, or with broadcast one per group of 8 rows (this lane's row in it)
  const rowStates = bc
    ? groups.map((g) => `  let sA${g} = colA(b, min(m0 + ${u(8 * g)} + tx, ${d.m} - 1u));`).join("\n")
    : range(tm).map((i) => `  let sA${i} = colA(b, min(m0 + ${u(i)}, ${d.m} - 1u));`).join("\n");
  const colStates = range(tn).map((j) => `  let sB${j} = colB(b, min(n0 + tx + ${u(j * wgx)}, ${d.n} - 1u));`).join("\n");
  const acc = range(tm).map((i) => `  ${range(tn).map((j) => `var c${i}_${j} = 0.0;`).join(" ")}`).join("\n");
  const bRegs = range(tn).map((j) => `    let b${j} = atB(sB${j}, kw);`).join("\n");
  const aRegs = groups.map((g) => `    let aL${g} = atA(sA${g}, kw);\n`).join("");
  const fma = range(tm)
    .map((i) => {
      const a = bc ? `subgroupBroadcast(aL${Math.floor(i / 8)}, ${u(i % 8)})` : `atA(sA${i}, kw)`;
      return `    let a${i} = ${a};\n    ${range(tn).map((j) => `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`).join(" ")}`;
    })
    .join("\n");
  // The stores walk the tile in a loop (bound from the uniform, so it is not unrolled): the
  // store and its epilogue (index math, residual and bias loads, each a per-lane gather on
  // lavapipe) are compiled once instead of TM x TN times; straight-line stores were most of a
  // fused conv's cold compile (conv2d+add+add+add: 1.5 s against 0.2 s for a plain conv2d).
  const stores = `  var acc: array<f32, ${tm * tn}>;
${range(tm)
  .map((i) => `  ${range(tn).map((j) => `acc[${i * tn + j}] = c${i}_${j};`).join(" ")}`)
  .join("\n")}
  for (var e = 0u; e < ${spec.dims.u("tile_values", tm * tn)}; e++) {
    let m = m0 + e / ${u(tn)};
    let n = n0 + tx + (e % ${u(tn)}) * ${u(wgx)};
    if (m < ${d.m} && n < ${d.n}) { store(b, m, n, acc[e]); }
  }`;
  // the K bound is a uniform, so lavapipe cannot unroll the loop (which compiles several times longer)
  const kRange = split ? `  let kBegin = b * ${d.chunk};\n  let kEnd = min(kBegin + ${d.chunk}, ${d.k});` : `  let kBegin = 0u;\n  let kEnd = ${spec.kEnd ?? d.k};`;
  const code = `${bc ? "enable subgroups;\n" : ""}// ${spec.op} as GEMM${split ? " split along K" : ""}, direct tiles ${bm}x${bn}, ${tm}x${tn} per thread${bc ? ", rows by subgroupBroadcast" : ""}; sizes in dims
${gemmFunctions(spec)}
@compute @workgroup_size(${wgx})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= ${d.tiles}) { return; }
  let n0 = (tile % ${d.tilesN}) * ${u(bn)};
  let m0 = ((tile / ${d.tilesN}) % ${d.tilesM}) * ${u(bm)};
  let b = tile / ${d.tilesMN};
  let tx = lid3.x;
${kRange}
${rowStates}
${colStates}
${acc}
  var kw = kAt(b, kBegin);
  for (var k = kBegin; k < kEnd; k++) {
${bRegs}
${aRegs}${fma}
    kw = kNext(kw);
  }
${stores}
}
`;
  return { code, workgroups: grid(d.total, limits, 1), uniforms: spec.dims.words() };
}

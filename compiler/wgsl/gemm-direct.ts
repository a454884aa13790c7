// The GEMM without workgroup memory, for CPU adapters (lavapipe): one workgroup per BM x BN
// output tile of BN/TN invocations along n, each invocation holding all BM rows (TM = BM) of
// TN columns (n0 + tx + j * wgx) in registers, reading A and B straight through the op's
// gathers with no staging and no barriers.
//
// Why this shape on lavapipe: a workgroup runs on one CPU thread with its invocations as
// 8-wide SIMD lanes, so workgroup memory is no faster than the (cached) operands, and a
// staged tile only adds a store, a barrier and a per-lane load. With every invocation on the
// same rows, A's index depends on the workgroup and k alone: lavapipe sees it uniform and
// loads one scalar for all lanes instead of gathering per lane; only B (one column per lane)
// is a per-lane gather, and the im2col decode of k (tap or pixel) stays uniform too.
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
}

export function gemmDirectKernel(spec: GemmSpec, limits: KernelLimits, tiles: GemmTiles): KernelSource {
  checkDirectTiles(tiles);
  const split = spec.splitK !== undefined;
  const { bm, bn, tm, tn } = tiles;
  const wgx = bn / tn;
  const d = gemmDims(spec, tiles);
  const range = (n: number) => [...Array(n).keys()];
  const rowStates = range(tm).map((i) => `  let sA${i} = colA(b, min(m0 + ${u(i)}, ${d.m} - 1u));`).join("\n");
  const colStates = range(tn).map((j) => `  let sB${j} = colB(b, min(n0 + tx + ${u(j * wgx)}, ${d.n} - 1u));`).join("\n");
  const acc = range(tm).map((i) => `  ${range(tn).map((j) => `var c${i}_${j} = 0.0;`).join(" ")}`).join("\n");
  const bRegs = range(tn).map((j) => `    let b${j} = atB(sB${j}, kw);`).join("\n");
  const fma = range(tm)
    .map((i) => `    let a${i} = atA(sA${i}, kw);\n    ${range(tn).map((j) => `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`).join(" ")}`)
    .join("\n");
  const stores = range(tm)
    .map((i) =>
      range(tn)
        .map((j) => `  if (m0 + ${u(i)} < ${d.m} && n0 + tx + ${u(j * wgx)} < ${d.n}) { store(b, m0 + ${u(i)}, n0 + tx + ${u(j * wgx)}, c${i}_${j}); }`)
        .join("\n"),
    )
    .join("\n");
  // the K bound is a uniform, so lavapipe cannot unroll the loop (which compiles several times longer)
  const kRange = split ? `  let kBegin = b * ${d.chunk};\n  let kEnd = min(kBegin + ${d.chunk}, ${d.k});` : `  let kBegin = 0u;\n  let kEnd = ${d.k};`;
  const code = `// ${spec.op} as GEMM${split ? " split along K" : ""}, direct tiles ${bm}x${bn}, ${tm}x${tn} per thread; sizes in dims
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
  var kw = kAt(kBegin);
  for (var k = kBegin; k < kEnd; k++) {
${bRegs}
${fma}
    kw = kNext(kw);
  }
${stores}
}
`;
  return { code, workgroups: grid(d.total, limits, 1), uniforms: spec.dims.words() };
}

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
import { gemmFunctions, type GemmSpec, type GemmTiles } from "./gemm-types.js";
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

export function gemmDirectKernel(spec: GemmSpec, limits: KernelLimits, tiles: GemmTiles, chunk: number): KernelSource {
  checkDirectTiles(tiles);
  const split = spec.splitK !== undefined;
  const { bm, bn, tm, tn } = tiles;
  const wgx = bn / tn;
  const tilesM = Math.ceil(spec.m / bm);
  const tilesN = Math.ceil(spec.n / bn);
  const total = tilesM * tilesN * spec.batch;
  const range = (n: number) => [...Array(n).keys()];
  const rowStates = range(tm).map((i) => `  let sA${i} = colA(b, min(m0 + ${u(i)}, ${u(spec.m - 1)}));`).join("\n");
  const colStates = range(tn).map((j) => `  let sB${j} = colB(b, min(n0 + tx + ${u(j * wgx)}, ${u(spec.n - 1)}));`).join("\n");
  const acc = range(tm).map((i) => `  ${range(tn).map((j) => `var c${i}_${j} = 0.0;`).join(" ")}`).join("\n");
  const bRegs = range(tn).map((j) => `    let b${j} = atB(sB${j}, k);`).join("\n");
  const fma = range(tm)
    .map((i) => `    let a${i} = atA(sA${i}, k);\n    ${range(tn).map((j) => `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`).join(" ")}`)
    .join("\n");
  const stores = range(tm)
    .map((i) =>
      range(tn)
        .map((j) => `  if (m0 + ${u(i)} < ${u(spec.m)} && n0 + tx + ${u(j * wgx)} < ${u(spec.n)}) { store(b, m0 + ${u(i)}, n0 + tx + ${u(j * wgx)}, c${i}_${j}); }`)
        .join("\n"),
    )
    .join("\n");
  // lavapipe unrolls a loop whose trip count it knows (compiles several times longer), so the
  // bound is hidden behind a runtime value (nwg.z is never 0)
  const kRange = split
    ? `  let kBegin = b * ${u(chunk)};\n  let kEnd = select(min(kBegin + ${u(chunk)}, ${u(spec.k)}), 0u, nwg.z == 0u);`
    : `  let kBegin = 0u;\n  let kEnd = select(${u(spec.k)}, 0u, nwg.z == 0u);`;
  const splitNote = split ? `, split-K chunks of ${chunk}` : "";
  const code = `// ${spec.op} as GEMM ${spec.batch}x[${spec.m}x${spec.k}]x[${spec.k}x${spec.n}]${splitNote}, direct tiles ${bm}x${bn}, ${tm}x${tn} per thread
${gemmFunctions(spec)}
@compute @workgroup_size(${wgx})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= ${u(total)}) { return; }
  let n0 = (tile % ${u(tilesN)}) * ${u(bn)};
  let m0 = ((tile / ${u(tilesN)}) % ${u(tilesM)}) * ${u(bm)};
  let b = tile / ${u(tilesN * tilesM)};
  let tx = lid3.x;
${kRange}
${rowStates}
${colStates}
${acc}
  for (var k = kBegin; k < kEnd; k++) {
${bRegs}
${fma}
  }
${stores}
}
`;
  return { code, workgroups: grid(total, limits, 1) };
}

// Reductions over a set of axes, with or without keeping them as size-1 dims:
//   x [d0, d1, d2], axes [1] -> [d0, d2] (keepdims: [d0, 1, d2]).
// Params hold canonical axes (non-negative, ascending, unique); the builder normalizes.
//
// Kernels: x's axes merge into runs (neighbours both kept or both reduced are contiguous), so
// x [N, C, H, W] over [0, 2, 3] reads as [N | C | H*W]. Short reductions (< 64 elements) run
// one invocation per output element; longer ones (BatchNorm statistics, losses) one workgroup
// per output element on a GPU: strided partial results per thread, then a tree in shared
// memory. On a software adapter long ones loop per output too (reducePlan says why).

import type { OpEmitter } from "./emitter.js";
import { formatShape, formatType, numel, stridesOf } from "../ir/shape.js";
import type { Shape, ValueType } from "../ir/types.js";
import type { KernelLimits, KernelSource } from "../wgsl/kernel.js";
import { bindings, f32Literal, flatDims, flatKernel, grid, offsetsFromIndex, opaqueBound, reductionThreads, treeReduce, WORKGROUP_REDUCTION_MIN, workgroupMain } from "../wgsl/wgsl.js";
import type { Value } from "../ir/value.js";
import { allocFloat, check, floats, requireDType, type OpDef, type VjpRule } from "./def.js";
import type { ReduceKind, ReduceParams } from "../ir/kinds.js";
import { runPlan } from "./strided.js";

export function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceShape(op: ReduceKind, [x]: readonly ValueType[], { axes, keepdims }: ReduceParams): ValueType {
  requireDType(op, [x], "f32");
  const rank = x.shape.length;
  axes.forEach((a, i) => {
    check(op, Number.isInteger(a) && a >= 0 && a < rank, () => `axis ${a} is out of range for ${formatType(x)}`);
    check(op, i === 0 || a > axes[i - 1], () => `axes must be ascending and unique, got ${formatShape(axes)}`);
  });
  const shape = keepdims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, dtype: "f32" };
}

/** The cotangent of a reduction, spread back over the reduced axes. */
function spread(b: OpEmitter, g: Value, x: Value, axes: readonly number[]): Value {
  return b.broadcastTo(b.reshape(g, keptShape(x.shape, axes)), x.shape);
}

const vjps: { [K in ReduceKind]: VjpRule<K> } = {
  reduce_sum: ({ b, g, inputs: [x], params }) => [spread(b, g, x, params.axes)],
  reduce_mean: ({ b, g, inputs: [x], params }) => {
    const count = params.axes.reduce((n, a) => n * x.shape[a], 1);
    return [b.div(spread(b, g, x, params.axes), count)];
  },
  // the cotangent goes to the maxima, split evenly between ties
  reduce_max: ({ b, g, out, inputs: [x], params }) => {
    const mask = b.eq(x, spread(b, out, x, params.axes));
    const ties = b.sum(mask, params.axes, true);
    return [b.mul(spread(b, g, x, params.axes), b.div(mask, ties))];
  },
};

const combine: { [K in ReduceKind]: { init: number; step: (acc: number, v: number) => number } } = {
  reduce_sum: { init: 0, step: (acc, v) => acc + v },
  reduce_mean: { init: 0, step: (acc, v) => acc + v },
  reduce_max: { init: -Infinity, step: (acc, v) => (v > acc ? v : acc) },
};

/** A run of x's axes read as one: `size` elements `stride` apart. */
interface Run {
  readonly size: number;
  readonly stride: number;
  readonly reduced: boolean;
}

/** x's axes as runs: neighbours both kept or both reduced merge, size-1 axes drop. */
function runsOf(shape: Shape, axes: readonly number[]): Run[] {
  const strides = stridesOf(shape);
  const runs: Run[] = [];
  shape.forEach((d, k) => {
    if (d === 1) return;
    const reduced = axes.includes(k);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced && last.stride === d * strides[k]) runs[runs.length - 1] = { size: last.size * d, stride: strides[k], reduced };
    else runs.push({ size: d, stride: strides[k], reduced });
  });
  return runs;
}

/** How each kind starts, combines and finishes, in WGSL; max starts from a real element (no -inf literal in WGSL). */
const wgslCombine: { [K in ReduceKind]: { init: string; step: (acc: string, v: string) => string } } = {
  reduce_sum: { init: "0.0", step: (acc, v) => `${acc} + ${v}` },
  reduce_mean: { init: "0.0", step: (acc, v) => `${acc} + ${v}` },
  reduce_max: { init: "in0[base]", step: (acc, v) => `max(${acc}, ${v})` },
};

/**
 * How a reduction is laid out: `loop`, one invocation per output element looping over its
 * reduced elements; `tree`, one workgroup per output element folding in shared memory (the
 * layout for a GPU); `lanes`, one workgroup of `wg` threads per output element whose partial
 * results one thread folds after a single barrier (for lavapipe, where each barrier switches
 * between the workgroup's coroutines of 8 lanes).
 */
export type ReducePlan = { readonly kind: "loop" } | { readonly kind: "tree" } | { readonly kind: "lanes"; readonly wg: number };

/**
 * On a software adapter, reductions with at least this many outputs loop one invocation per
 * output; fewer take a `lanes` workgroup of this many threads (lavapipe's SIMD width: one
 * coroutine, so its barrier is cheap), so one long reduction still uses the vector lanes.
 * Measured on lavapipe (2 cores, every reduction of config S at batch 8, bench/reductions.ts):
 * loops beat trees at every shape, 809 ms -> 57 ms in all; the softmax VJP's row sums
 * [8, 4, 256, 256] over [3] 119 ms -> 4.2 ms (a tree of 256 threads per row mostly switches
 * coroutines at its barriers), BatchNorm's [8, 64, 8, 8] over [0, 2, 3] 1.14 ms -> 0.07 ms.
 * Lanes of 32..128 threads were no faster than loops even at 16 outputs of 8,192.
 */
export const LANES_WG = 8;

/**
 * A long reduction looped in one invocation sums blocks of this many elements of its
 * innermost run, then the blocks: rounding error grows with ~LOOP_BLOCK + count / LOOP_BLOCK
 * additions instead of count (a sequential f32 sum of bias gradients put the PyTorch-vector
 * step over its 1e-4 tolerance; tests/webgpu/torch-vectors-webgpu.test.ts).
 */
export const LOOP_BLOCK = 32;

/** The layout of a reduction of `count` elements to each of `outputs` on `limits`' adapter. */
export function reducePlan(count: number, outputs: number, limits: KernelLimits): ReducePlan {
  if (count < WORKGROUP_REDUCTION_MIN) return { kind: "loop" };
  if (limits.hardware) return { kind: "tree" };
  return outputs >= LANES_WG ? { kind: "loop" } : { kind: "lanes", wg: LANES_WG };
}

export function reduceKernel(kind: ReduceKind, x: ValueType, out: ValueType, axes: readonly number[], limits: KernelLimits, plan?: ReducePlan): KernelSource {
  const runs = runsOf(x.shape, axes);
  const kept = runs.filter((r) => !r.reduced);
  const reduced = runs.filter((r) => r.reduced);
  const outputs = numel(out.shape);
  const count = numel(reduced.map((r) => r.size));
  const { init, step } = wgslCombine[kind];
  const finish = (acc: string) => (kind === "reduce_mean" ? `${acc} / ${f32Literal(count)}` : acc);
  // `base`: the offset in x of output element i's first reduced element
  const base = offsetsFromIndex(kept.map((r) => r.size), [kept.map((r) => r.stride)], ["base"]);
  const how = plan ?? reducePlan(count, outputs, limits);
  const partInit = kind === "reduce_max" ? "in0[base]" : "0.0";

  if (how.kind === "loop") {
    // Sizes and strides in the uniform (dims.ts): reductions that differ only in shape share a
    // pipeline (the loop bounds are then hidden from lavapipe's unroller as well).
    const dims = flatDims(numel(x.shape));
    const loopBase = offsetsFromIndex(kept.map((r) => r.size), [kept.map((r) => r.stride)], ["base"], dims);
    const size = (j: number) => dims.u(`n${j}`, reduced[j].size);
    const stride = (j: number) => dims.u(`s${j}`, reduced[j].stride);
    const mean = (acc: string) => (kind === "reduce_mean" ? `${acc} / ${dims.f("count", count)}` : acc);
    if (count >= WORKGROUP_REDUCTION_MIN) {
      // partial results of at most LOOP_BLOCK elements of the innermost run, then their fold
      const last = reduced.length - 1;
      const loops = reduced.slice(0, -1).map((_, j) => `  for (var r${j} = 0u; r${j} < ${size(j)}; r${j}++) {`);
      const offset = ["base", ...loops.map((_, j) => `r${j} * ${stride(j)}`)].join(" + ");
      const inner =
        reduced[last].size > LOOP_BLOCK
          ? `  for (var b = 0u; b < ${size(last)}; b += ${LOOP_BLOCK}u) {
    var part = ${partInit};
    let end = min(b + ${LOOP_BLOCK}u, ${size(last)});
    for (var k = b; k < end; k++) { part = ${step("part", `in0[off + k * ${stride(last)}]`)}; }
    acc = ${step("acc", "part")};
  }`
          : `  var part = ${partInit};
  for (var k = 0u; k < ${size(last)}; k++) { part = ${step("part", `in0[off + k * ${stride(last)}]`)}; }
  acc = ${step("acc", "part")};`;
      return flatKernel([x], out, outputs, `${loopBase}
  var acc = ${init};
${loops.join("\n")}
  let off = ${offset};
${inner}
${loops.map(() => "  }").join("")}
  out[i] = ${mean("acc")};`, limits, { elements: 1, dims });
    }
    const loops = reduced.map((_, j) => `  for (var r${j} = 0u; r${j} < ${size(j)}; r${j}++) {`);
    const offset = ["base", ...reduced.map((_, j) => `r${j} * ${stride(j)}`)].join(" + ");
    return flatKernel([x], out, outputs, `${loopBase}
  var acc = ${init};
${loops.join("\n")}
    acc = ${step("acc", `in0[${offset}]`)};
${loops.map(() => "  }").join("")}
  out[i] = ${mean("acc")};`, limits, { elements: 1, dims });
  }

  // thread lid takes reduced elements lid, lid + wg, ...; the last run is innermost
  const wg = how.kind === "tree" ? reductionThreads(count) : how.wg;
  const unravel = reduced
    .map((r, j) => (j === 0 ? `      off += q * ${r.stride}u;` : `      off += (q % ${r.size}u) * ${r.stride}u; q = q / ${r.size}u;`))
    .reverse();
  const fold =
    how.kind === "tree"
      ? `${treeReduce("partial", wg, step)}
  if (lid == 0u) { out[i] = ${finish("partial[0]")}; }`
      : `  workgroupBarrier();
  if (lid == 0u) {
    var t = partial[0];
    for (var k = 1u; k < ${opaqueBound(wg)}; k++) { t = ${step("t", "partial[k]")}; }
    out[i] = ${finish("t")};
  }`;
  return {
    code: `${bindings([x], out)}
var<workgroup> partial: array<f32, ${wg}>;
${workgroupMain(outputs, wg)}
${base}
  var acc = ${init};
  for (var r = lid; r < ${count}u; r += ${wg}u) {
    var q = r;
    var off = base;
${unravel.join("\n")}
    acc = ${step("acc", "in0[off]")};
  }
  partial[lid] = acc;
${fold}
}`,
    workgroups: grid(outputs, limits, 1),
  };
}

function reduceOp<K extends ReduceKind>(kind: K): OpDef<K> {
  const { init, step } = combine[kind];
  return {
    kind,
    arity: 1,
    shape: (inputs, params) => reduceShape(kind, inputs, params),
    vjp: vjps[kind],
    reference: ([x], { axes }, out, ctx) => {
      // each input element's destination: out strides with 0 on the reduced axes
      const kept = keptShape(x.shape, axes);
      const strides = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
      const acc = new Float64Array(numel(out.shape)).fill(init);
      const src = floats(x);
      // x is read in order, so each output accumulates its inputs in the same order as ever
      const { len, count: runs, inner: [, id], starts: [, sd] } = runPlan(x.shape, [stridesOf(x.shape), strides]);
      for (let r = 0, i = 0; r < runs; r++) {
        if (kind === "reduce_max") for (let j = 0, d = sd[r]; j < len; j++, d += id) acc[d] = step(acc[d], src[i++]);
        else if (id === 0) {
          let t = acc[sd[r]];
          for (let j = 0; j < len; j++) t += src[i++];
          acc[sd[r]] = t;
        } else for (let j = 0, d = sd[r]; j < len; j++, d += id) acc[d] += src[i++];
      }
      if (kind === "reduce_mean") {
        const count = src.length / Math.max(acc.length, 1);
        for (let i = 0; i < acc.length; i++) acc[i] /= count;
      }
      const y = allocFloat(ctx, acc.length);
      y.set(acc);
      return y;
    },
    wgsl: ({ inputs: [x], out, params: { axes }, limits }) => reduceKernel(kind, x, out, axes, limits),
  };
}

export const reduceOps: { [K in ReduceKind]: OpDef<K> } = {
  reduce_sum: reduceOp("reduce_sum"),
  reduce_mean: reduceOp("reduce_mean"),
  reduce_max: reduceOp("reduce_max"),
};

// What a WGSL template produces for one op node: the shader source and how many workgroups to
// dispatch. Binding convention (group 0): bindings 0..n-1 are the node's inputs in order
// (`var<storage, read>`), binding n is its output (`var<storage, read_write>`); each is a flat
// array<f32> or array<i32> of the value's elements in row-major order. Shapes are static: most
// templates bake them in as constants; the GEMM family reads its sizes from a uniform (dims.ts)
// at binding n+1, so one pipeline serves every shape. The entry point is `main`.
import type { OpKind, OpParams } from "../ir/kinds.js";
import type { ValueType } from "../ir/types.js";
import type { Dims } from "./dims.js";
import type { GemmTiles, TileTable } from "./tiles.js";

export type { TileTable } from "./tiles.js";

export interface KernelSource {
  readonly code: string;
  readonly workgroups: readonly [number, number, number];
  /** The words of the `Dims` uniform at binding n+1 (dims.ts), where the code declares one. */
  readonly uniforms?: readonly number[];
  /** GEMM kernels: the key a tuner times them by and the tiles this kernel uses. */
  readonly gemm?: { readonly signature: string; readonly tiles: GemmTiles };
}

export interface KernelLimits {
  /** maxComputeWorkgroupsPerDimension of the device (65535 by default). */
  readonly maxWorkgroupsPerDimension: number;
  /**
   * True on a hardware GPU adapter. Absent or false: choose what keeps a software adapter
   * (lavapipe compiles each shader at its first dispatch) fast to compile.
   */
  readonly hardware?: boolean;
  /**
   * The adapter's smallest subgroup where it has the `subgroups` feature (the device requests
   * it); absent or 0: kernels use no subgroup operations.
   */
  readonly subgroupMinSize?: number;
  /** GEMM tiles tuned on this adapter, by signature; a GEMM not in it gets `defaultTiles`. */
  readonly tiles?: TileTable;
}

/**
 * An elementwise chain computed in a GEMM's store (compiler/passes/schedule/epilogue.ts): the
 * op's raw result `v` at flat output index `i` goes through `fn epilogue(v: f32, i: u32) -> f32`
 * before it is written. Its inputs are bound after the op's own, so the kernel's binding
 * convention holds for the fused node list.
 */
export interface Epilogue {
  readonly inputs: readonly ValueType[];
  /** The function's WGSL, given the binding of its first input and the kernel's Dims. */
  readonly code: (firstBinding: number, dims: Dims) => string;
}

export interface KernelRequest<K extends OpKind> {
  readonly inputs: readonly ValueType[];
  readonly out: ValueType;
  readonly params: OpParams<K>;
  readonly limits: KernelLimits;
  /** Only for the GEMM ops (EPILOGUE_OPS in the schedule). */
  readonly epilogue?: Epilogue;
  /**
   * Only for matmul: per input, whether it is bound as the tensor whose last two axes a folded
   * transpose swapped (the schedule's foldTransposes), to be read transposed in place.
   */
  readonly transposed?: readonly boolean[];
  /** Only for matmul: store the result with its last two axes swapped (a transpose folded into it). */
  readonly transposedOut?: boolean;
}

export type KernelTemplate<K extends OpKind> = (req: KernelRequest<K>) => KernelSource;

// Sizes a kernel reads at run time from a small uniform instead of baking them in as constants,
// so that one pipeline serves every shape of its kind. On lavapipe a GEMM pipeline costs
// 0.1-0.3 s of LLVM at its first dispatch, and the lesson's step at config S had ~100 distinct
// conv and matmul shapes: most of its first step was compilation. What still shapes the code
// (kernel size, stride and padding where a K loop decodes them, tiles, which axes broadcast)
// stays a constant.
//
// Binding convention (kernel.ts): the struct `Dims` is bound as `var<uniform> dims` right after
// the output binding; KernelSource.uniforms holds its words.

/** Largest value `udiv` divides exactly by the f32 reciprocal (the estimate is off by at most 1). */
export const UDIV_EXACT_BELOW = 2 ** 22;

type FieldType = "u32" | "i32" | "f32";

/** A WGSL literal of a field's value (a baked Dims). */
function literal(type: FieldType, value: number): string {
  if (type === "u32") return `${value}u`;
  if (type === "i32") return `${value}i`;
  const s = String(Math.fround(value));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const isPow2 = (v: number) => Number.isInteger(v) && v > 0 && (v & (v - 1)) === 0;

/**
 * x / d for x < UDIV_EXACT_BELOW: a float multiply and one correction each way, which LLVM
 * vectorizes, where a u32 division by a value known only at run time is a scalar `div` per lane
 * on x86 (~25 cycles each). With a correctly rounded multiply the estimate is already exact below
 * 2^22 (checked on the host for the divisors of tests/webgpu/kernels-dims.test.ts); the two
 * corrections keep it exact where a driver's multiply or conversion is a little off.
 */
const UDIV = `fn udiv(x: u32, d: u32, r: f32) -> u32 {
  let xi = i32(x);
  var q = i32(f32(xi) * r);
  q = select(q, q - 1, q * i32(d) > xi);
  return u32(select(q, q + 1, (q + 1) * i32(d) <= xi));
}`;

export class Dims {
  private readonly fields = new Map<string, { type: FieldType; value: number }>();
  private usesDiv = false;

  /**
   * `baked`: write every size as a literal instead (no uniform), for kernels large enough that
   * the constants' cheaper index arithmetic outweighs sharing a pipeline (flatDims in wgsl.ts).
   */
  constructor(readonly baked = false) {}

  /** `dims.<name>`, a u32 of this value (registering a name twice needs the same value). */
  u(name: string, value: number): string {
    return this.add(name, "u32", value);
  }

  /** `dims.<name>`, an i32. */
  i(name: string, value: number): string {
    return this.add(name, "i32", value);
  }

  /** `dims.<name>`, an f32. */
  f(name: string, value: number): string {
    return this.add(name, "f32", Math.fround(value));
  }

  /**
   * WGSL for `x / d` with d = `dims.<name>`, for x known to stay below `bound`. A power of two
   * is a shift by a uniform amount (UNet sizes mostly are: a constant division by one was 3-5x
   * faster than the reciprocal on lavapipe, bench/flat-decode.ts), so whether d is one shapes
   * the code; others use the fast reciprocal division where that is exact; past that bound,
   * the constant itself (a division by a literal is a multiply and shift, and so large a
   * kernel is rare enough to get a pipeline of its own).
   */
  div(x: string, name: string, d: number, bound: number): string {
    if (this.baked) return `(${x} / ${d}u)`;
    if (isPow2(d)) return `(${x} >> ${this.u(`${name}_log2`, Math.log2(d))})`;
    if (bound > UDIV_EXACT_BELOW) return `(${x} / ${d}u)`;
    const dd = this.u(name, d);
    this.usesDiv = true;
    return `udiv(${x}, ${dd}, ${this.add(`${name}_rcp`, "f32", Math.fround(1 / d))})`;
  }

  /**
   * WGSL for `x % d`, as `div`; `q`, where given, names a value already holding `x / d` (from
   * `div`), so the division is not written twice.
   */
  mod(x: string, name: string, d: number, bound: number, q?: string): string {
    if (this.baked) return `(${x} % ${d}u)`;
    if (isPow2(d)) return `(${x} & ${this.u(`${name}_mask`, d - 1)})`;
    if (bound > UDIV_EXACT_BELOW) return `(${x} % ${d}u)`;
    return `(${x} - ${q ?? this.div(x, name, d, bound)} * ${this.u(name, d)})`;
  }

  /** WGSL for `x * v` with v = `dims.<name>`: a shift where v is a power of two. */
  mul(x: string, name: string, v: number): string {
    if (this.baked) return `(${x} * ${v}u)`;
    return isPow2(v) ? `(${x} << ${this.u(`${name}_log2`, Math.log2(v))})` : `(${x} * ${this.u(name, v)})`;
  }

  get empty(): boolean {
    return this.fields.size === 0;
  }

  /** The struct, its binding and the helpers used, to put before the functions that read them. */
  declare(binding: number): string {
    if (this.empty) return "";
    const members = [...this.fields].map(([name, f]) => `${name}: ${f.type}`).join(", ");
    return `struct Dims { ${members} }
@group(0) @binding(${binding}) var<uniform> dims: Dims;${this.usesDiv ? `\n${UDIV}` : ""}`;
  }

  /** The uniform's contents: one 32-bit word per field in declaration order, padded to 16 bytes. */
  words(): number[] {
    const view = new DataView(new ArrayBuffer(4 * Math.max(4, Math.ceil(this.fields.size / 4) * 4)));
    [...this.fields.values()].forEach((f, j) => {
      if (f.type === "f32") view.setFloat32(4 * j, f.value, true);
      else if (f.type === "i32") view.setInt32(4 * j, f.value, true);
      else view.setUint32(4 * j, f.value, true);
    });
    return Array.from({ length: view.byteLength / 4 }, (_, j) => view.getUint32(4 * j, true));
  }

  private add(name: string, type: FieldType, value: number): string {
    const old = this.fields.get(name);
    if (old && (old.type !== type || old.value !== value)) {
      throw new Error(`internal error: kernel dimension '${name}' given as ${old.type} ${old.value} and ${type} ${value}`);
    }
    if (type !== "f32" && !(Number.isInteger(value) && value >= (type === "i32" ? -(2 ** 31) : 0) && value < 2 ** (type === "i32" ? 31 : 32))) {
      throw new Error(`internal error: kernel dimension '${name}' = ${value} is not a ${type}`);
    }
    if (this.baked) return literal(type, value);
    this.fields.set(name, { type, value });
    return `dims.${name}`;
  }
}

/** The values of a kernel's Dims by name, read back from its code and words (for tests and printouts). */
export function readDims(code: string, words: readonly number[] = []): Record<string, number> {
  const struct = /struct Dims \{ ([^}]*) \}/.exec(code);
  if (!struct) return {};
  const view = new DataView(Uint32Array.from(words).buffer);
  const out: Record<string, number> = {};
  struct[1].split(", ").forEach((member, j) => {
    const [name, type] = member.split(": ");
    out[name] = type === "f32" ? view.getFloat32(4 * j, true) : type === "i32" ? view.getInt32(4 * j, true) : view.getUint32(4 * j, true);
  });
  return out;
}

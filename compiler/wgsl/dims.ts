// Sizes a kernel reads at run time from a small uniform instead of baking them in as constants,
// so that one pipeline serves every shape of its kind. On lavapipe a GEMM pipeline costs
// 0.1-0.3 s of LLVM at its first dispatch, and the lesson's step at config S had ~100 distinct
// conv and matmul shapes: most of its first step was compilation. What still shapes the code
// (kernel size, stride, padding, tiles, which axes broadcast) stays a constant.
//
// Binding convention (kernel.ts): the struct `Dims` is bound as `var<uniform> dims` right after
// the output binding; KernelSource.uniforms holds its words.

/** Largest value `udiv` divides exactly by the f32 reciprocal (the estimate is off by at most 1). */
export const UDIV_EXACT_BELOW = 2 ** 22;

type FieldType = "u32" | "i32" | "f32";

/**
 * x / d for x < UDIV_EXACT_BELOW: a float multiply and one correction each way, which LLVM
 * vectorizes, where a u32 division by a value known only at run time is a scalar `div` per lane
 * on x86 (~25 cycles each). With a correctly rounded multiply the estimate is already exact below
 * 2^22 (checked on the host for the divisors of tests/webgpu/kernels-dims.test.ts); the two
 * corrections keep it exact where a driver's multiply or conversion is a little off.
 */
const UDIV = `fn udiv(x: u32, d: u32, r: f32) -> u32 {
  var q = u32(f32(x) * r);
  q = select(q, q - 1u, q * d > x);
  return select(q, q + 1u, (q + 1u) * d <= x);
}`;

export class Dims {
  private readonly fields = new Map<string, { type: FieldType; value: number }>();
  private usesDiv = false;

  /** `dims.<name>`, a u32 of this value (registering a name twice needs the same value). */
  u(name: string, value: number): string {
    return this.add(name, "u32", value);
  }

  /** `dims.<name>`, an i32. */
  i(name: string, value: number): string {
    return this.add(name, "i32", value);
  }

  /**
   * WGSL for `x / d` with d = `dims.<name>`, for x known to stay below `bound`: the fast
   * reciprocal division where that is exact, else a plain division.
   */
  div(x: string, name: string, d: number, bound: number): string {
    const dd = this.u(name, d);
    if (bound > UDIV_EXACT_BELOW) return `(${x} / ${dd})`;
    this.usesDiv = true;
    return `udiv(${x}, ${dd}, ${this.add(`${name}_rcp`, "f32", Math.fround(1 / d))})`;
  }

  /** WGSL for `x % d`, as `div`. */
  mod(x: string, name: string, d: number, bound: number): string {
    const q = this.div(x, name, d, bound);
    return q.startsWith("udiv") ? `(${x} - ${q} * dims.${name})` : `(${x} % dims.${name})`;
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

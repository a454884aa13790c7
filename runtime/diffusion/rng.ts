// A small seeded generator for data order and diffusion noise: mulberry32 for uniforms and
// Box-Muller for normals. Same algorithm as runtime/session's Rng (so seeds mean the same
// thing), kept here so runtime/data and runtime/diffusion depend on nothing above them.
// The whole state is one uint32, so a checkpoint can store it and a resumed run continues
// the exact stream.

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** The generator's state; `new Rng(rng.state)` continues the same stream. */
  get state(): number {
    return this.s;
  }

  set state(value: number) {
    this.s = value >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (one Box-Muller draw = two uniforms; the sine half is discarded). */
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /**
   * Fills `out` with standard normals. Uses both Box-Muller halves (cos and sin), so it is
   * twice as cheap per value as `normal()` but not the same stream.
   */
  fillNormal(out: Float32Array, scale = 1): Float32Array {
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(Math.max(this.uniform(), 1e-12))) * scale;
      const a = 2 * Math.PI * this.uniform();
      out[i] = r * Math.cos(a);
      out[i + 1] = r * Math.sin(a);
    }
    if (i < n) out[i] = this.normal() * scale;
    return out;
  }

  /** Fills `out` with uniforms in [0, 1). */
  fillUniform(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }
}

/**
 * Derives an independent-looking seed from several integers (splitmix32-style finaliser), e.g.
 * (seed, epoch) for the data order, so that nearby inputs give unrelated streams.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = (h ^ (p >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = (h + 0x9e3779b9) >>> 0;
  }
  return h;
}

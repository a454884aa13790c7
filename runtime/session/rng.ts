// A small seeded generator (mulberry32 + Box-Muller): reproducible initialisation, data order
// and noise across runs and machines; its state is one integer, so checkpoints can store it.

export class Rng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  get seed(): number {
    return this.state;
  }
}

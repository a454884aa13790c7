// Sessions use the one seeded generator of the runtime (mulberry32 + Box-Muller), so a seed
// means the same stream for initialisation, data order and diffusion noise.
export { Rng } from "../diffusion/rng.js";

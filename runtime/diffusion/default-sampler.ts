// The sampler used when none is named: the lesson's DDIM for cosine-trained models, Euler for Karras.
import type { SamplerKind } from "./samplers.js";
import type { ScheduleKind } from "./schedules.js";

export function defaultSampler(schedule: ScheduleKind): SamplerKind {
  return schedule === "cosine" ? "ddim" : "euler";
}

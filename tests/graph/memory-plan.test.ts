// The one memory planner (compiler/passes/memory-plan.ts, through compileGraph): transient
// buffers reused by liveness, persistent values packed into aligned arenas within the device's
// largest binding, the report's numbers, and device limits exceeded as a MemoryLimitError.
import { describe, expect, test } from "vitest";
import { compileGraph, MemoryLimitError } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/graph/builder.js";

function chain() {
  const b = new GraphBuilder();
  const x = b.input("x", [64]);
  const w = b.param("w", [64]);
  const v = b.param("v", [3]);
  // Not elementwise-fusable across the sum: at least two kernels, so buffers can be reused.
  const s = b.sum(b.mul(x, w));
  b.output("y", b.add(b.mul(b.exp(b.mul(x, s)), w), b.sum(v)));
  return b.build();
}

describe("memory plan", () => {
  test("packs sources into aligned arenas and reports what it allocates", () => {
    const c = compileGraph(chain(), { limits: { minStorageBufferOffsetAlignment: 256 } });
    const { plan, report } = c;
    expect(plan.arenas).toEqual([3 * 256]); // x, w, v: each rounded up to 256 bytes
    const offsets = [...plan.placement.values()].flatMap((p) => (p.kind === "arena" ? [p.offset] : []));
    expect(offsets.every((o) => o % 256 === 0)).toBe(true);
    expect(report.persistentBytes).toBe(768);
    expect(report.allocatedBytes).toBe(plan.slots.reduce((a, b) => a + b, 0));
    expect(report.totalBytes).toBe(report.persistentBytes + report.allocatedBytes);
    expect(report.peakLiveBytes).toBeLessThanOrEqual(report.allocatedBytes);
    expect(report.allocatedBytes).toBeLessThanOrEqual(report.naiveBytes);
    // Every kernel's output and input has a place.
    for (const k of c.kernels) for (const id of [k.output, ...k.inputs]) expect(plan.placement.has(id), `%${id}`).toBe(true);
  });

  test("starts a new arena where the next value would pass the largest binding", () => {
    const { plan } = compileGraph(chain(), { limits: { minStorageBufferOffsetAlignment: 256, maxStorageBufferBindingSize: 512 } });
    expect(plan.arenas).toEqual([512, 256]);
  });

  test("a tensor larger than one binding is a MemoryLimitError", () => {
    expect(() => compileGraph(chain(), { limits: { maxStorageBufferBindingSize: 128 } })).toThrow(MemoryLimitError);
  });

  test("a kernel that needs more storage buffers than the device has is a MemoryLimitError", () => {
    expect(() => compileGraph(chain(), { limits: { maxStorageBuffersPerShaderStage: 2 } })).toThrow(/maxStorageBuffersPerShaderStage \(2\)/);
  });
});

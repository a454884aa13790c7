// settle(): a device promise awaited in event-loop turns with the thread asleep between them, on
// software adapters only. What it must keep: the value, the rejection (handled, no unhandled-
// rejection crash), and the rest of the event loop running while it waits. And the executor's
// real reads must wait that way: on lavapipe its main thread stays nearly idle through a long
// step, where Dawn's own wait keeps it busy.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph } from "../../compiler/compile.js";
import { deviceTarget } from "../../runtime/webgpu/device.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";
import { isSoftwareAdapter, settle } from "../../runtime/webgpu/settle.js";
import { getGpu, randomData } from "./gpu-harness.js";

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
/** A promise settled the way Dawn's node binding settles one: a tick from setImmediate, re-queued every turn until done. */
const dawnLike = (ms: number) =>
  new Promise<void>((resolve) => {
    const end = performance.now() + ms;
    const tick = () => (performance.now() >= end ? resolve() : setImmediate(tick));
    setImmediate(tick);
  });
const cpuMs = (f: () => Promise<unknown>) => async () => {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await f();
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1000, wall: performance.now() - t };
};

describe("settle", () => {
  it("resolves to the promise's value, after it settles", async () => {
    const t = performance.now();
    await expect(settle(later(30, 42), true)).resolves.toBe(42);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
  });

  it("passes a rejection on to the caller", async () => {
    const failing = new Promise<number>((_, reject) => setTimeout(() => reject(new Error("device lost")), 10));
    await expect(settle(failing, true)).rejects.toThrow("device lost");
  });

  it("lets timers and immediates run while it waits", async () => {
    const seen: string[] = [];
    setTimeout(() => seen.push("timer"), 5);
    setImmediate(() => seen.push("immediate"));
    await settle(later(40, 0), true);
    expect(seen).toEqual(["immediate", "timer"]);
  });

  it("sleeps between the ticks of a polled promise: far less CPU than wall time, where awaiting it polls", async () => {
    // the premise: awaiting a Dawn-style promise directly burns a core for its whole wait
    const polled = await cpuMs(() => dawnLike(200))();
    expect(polled.cpu).toBeGreaterThan(polled.wall / 4);
    const quiet = await cpuMs(() => settle(dawnLike(200), true))();
    expect(quiet.wall).toBeGreaterThanOrEqual(195);
    expect(quiet.cpu).toBeLessThan(quiet.wall / 10);
  });

  it("returns the promise itself on a hardware adapter (Dawn's own wait)", () => {
    const p = later(1, "x");
    expect(settle(p, false)).toBe(p);
  });
});

describe("isSoftwareAdapter", () => {
  it("is WebGPU's fallback flag, or a software driver's name where the flag is unset", () => {
    expect(isSoftwareAdapter({ isFallbackAdapter: true, vendor: "acme" })).toBe(true);
    expect(isSoftwareAdapter({ vendor: "mesa", architecture: "software", description: "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" })).toBe(true);
    expect(isSoftwareAdapter({ vendor: "google", description: "SwiftShader Device (Subzero)" })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: false, vendor: "nvidia", architecture: "hopper", description: "NVIDIA H100 80GB HBM3" })).toBe(false);
    expect(isSoftwareAdapter({})).toBe(false);
  });
});

/** CPU milliseconds of this process's main thread alone (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms). */
function mainThreadMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const gpu = await getGpu();
const software = typeof gpu !== "string" && gpu.adapterInfo.isSoftware;

describe.skipIf(!software || process.platform !== "linux")("the executor's waits on a software adapter", () => {
  it("leave the main thread idle while the device works, where Dawn's own wait polls", { timeout: 60_000 }, async () => {
    if (typeof gpu === "string") return;
    // a few hundred ms of lavapipe work: a chain of 512x512 matmuls
    const n = 512;
    const b = new GraphBuilder();
    let x = b.input("x", [n, n]);
    const w = b.input("w", [n, n]);
    for (let i = 0; i < 24; i++) x = b.matmul(x, w);
    b.output("out", x);
    const exec = await GraphExecutor.create(gpu, compileGraph(b.build(), deviceTarget(gpu)));
    try {
      exec.write("x", { shape: [n, n], data: randomData(n * n, 1, -0.04, 0.04) });
      exec.write("w", { shape: [n, n], data: randomData(n * n, 2, -0.04, 0.04) });
      exec.run();
      await exec.read("out"); // compiles the shader
      const timed = async (wait: () => Promise<unknown>) => {
        exec.run();
        const cpu = mainThreadMs();
        const t = performance.now();
        await wait();
        return { cpu: mainThreadMs() - cpu, wall: performance.now() - t };
      };
      const polled = await timed(() => gpu.device.queue.onSubmittedWorkDone());
      const quiet = await timed(() => exec.read("out"));
      // the premise: Dawn's wait keeps the main thread busy for most of the step
      expect(polled.wall).toBeGreaterThan(100);
      expect(polled.cpu).toBeGreaterThan(polled.wall / 3);
      expect(quiet.wall).toBeGreaterThan(100);
      expect(quiet.cpu).toBeLessThan(quiet.wall / 4);
    } finally {
      exec.destroy();
    }
  });
});

// settle(): a device promise awaited in event-loop turns with the thread asleep between them, on
// software adapters only. What it must keep: the value, the rejection (handled, no unhandled-
// rejection crash), and the rest of the event loop running while it waits.
import { describe, expect, it } from "vitest";
import { settle } from "../../runtime/webgpu/settle.js";

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

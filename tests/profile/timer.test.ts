// Without the adapter's timestamp-query feature the kernel timer refuses with a UserError the CLI
// prints (after the static report), rather than timing nothing.
import { describe, expect, test } from "vitest";
import { UserError } from "../../compiler/diagnostics/user-error.js";
import type { GpuContext } from "../../runtime/webgpu/device.js";
import { KernelTimer, TimestampQueryError } from "../../runtime/webgpu/profiler.js";

describe("kernel timer", () => {
  test("an adapter without timestamp-query is a TimestampQueryError that names it", () => {
    const adapterInfo = { vendor: "acme", architecture: "", device: "", description: "Acme GPU", backend: "vulkan", isSoftware: false };
    const ctx = { features: new Set<string>(["shader-f16"]), adapterInfo } as unknown as GpuContext;
    const err = (() => {
      try {
        KernelTimer.create(ctx, 3);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TimestampQueryError);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain("Acme GPU");
    expect((err as Error).message).toContain("timestamp-query");
  });
});

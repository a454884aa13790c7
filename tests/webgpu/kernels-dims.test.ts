// The Dims uniform's division (compiler/wgsl/dims.ts): udiv(x, d, 1/d), and the shift and mask
// of powers of two, equal x / d and x % d for every x below UDIV_EXACT_BELOW, checked
// exhaustively on the device for divisors the convs use and for awkward ones; and the uniform
// struct reads back what the kernel wrote.
import { describe, expect, it } from "vitest";
import { Dims, readDims, UDIV_EXACT_BELOW } from "../../compiler/wgsl/dims.js";
import { packUniforms } from "../../runtime/webgpu/uniforms.js";
import { getGpu } from "./gpu-harness.js";

const gpu = await getGpu();

describe("Dims", () => {
  it("declares its fields in order and packs them as 32-bit words", () => {
    const d = new Dims();
    expect(d.u("ohw", 256)).toBe("dims.ohw");
    expect(d.i("pad", -1)).toBe("dims.pad");
    expect(d.u("ohw", 256)).toBe("dims.ohw");
    expect(() => d.u("ohw", 255)).toThrow(/internal error.*'ohw'/);
    expect(d.div("x", "ow", 24, 1000)).toBe("udiv(x, dims.ow, dims.ow_rcp)");
    expect(d.div("x", "w", 24, UDIV_EXACT_BELOW + 1)).toBe("(x / 24u)");
    // powers of two shift and mask, by uniform amounts
    expect(d.div("x", "c", 32, UDIV_EXACT_BELOW + 1)).toBe("(x >> dims.c_log2)");
    expect(d.mod("x", "c", 32, 1000)).toBe("(x & dims.c_mask)");
    expect(d.mul("x", "s", 64)).toBe("(x << dims.s_log2)");
    expect(d.mul("x", "t", 3)).toBe("(x * dims.t)");
    const code = d.declare(3);
    expect(code).toContain("struct Dims { ohw: u32, pad: i32, ow: u32, ow_rcp: f32, c_log2: u32, c_mask: u32, s_log2: u32, t: u32 }");
    expect(code).toContain("@group(0) @binding(3) var<uniform> dims: Dims;");
    expect(code).toContain("fn udiv(");
    expect(d.words()).toHaveLength(8);
    expect(readDims(code, d.words())).toEqual({ ohw: 256, pad: -1, ow: 24, ow_rcp: Math.fround(1 / 24), c_log2: 5, c_mask: 31, s_log2: 6, t: 3 });
  });
});

describe.skipIf(typeof gpu === "string")("udiv on the device", () => {
  it.each([1, 3, 7, 9, 16, 24, 255, 256, 1000, 1023, 1025, 4095, 65537, 2 ** 21 + 1])("x / %i for every x < 2^22", async (divisor) => {
    if (typeof gpu === "string") return;
    const { device } = gpu;
    const n = UDIV_EXACT_BELOW;
    const d = new Dims();
    d.u("d", divisor); // read by the check below (powers of two shift and mask instead)
    const q = d.div("i", "d", divisor, n);
    const r = d.mod("i", "d", divisor, n);
    // out[i] = 1 where the quotient and remainder are exact, so one read checks all of them
    const code = `@group(0) @binding(0) var<storage, read_write> out: array<u32>;
${d.declare(1)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let q = ${q};
  let r = ${r};
  out[i] = select(0u, 1u, q * dims.d + r == i && r < dims.d);
}`;
    const out = device.createBuffer({ size: 4 * n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const staging = device.createBuffer({ size: 4 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const { buffer, regions } = packUniforms(device, [d.words()]);
    const pipeline = await device.createComputePipelineAsync({ layout: "auto", compute: { module: device.createShaderModule({ code }), entryPoint: "main" } });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: regions[0]! }] });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1024, n / 64 / 1024);
    pass.end();
    encoder.copyBufferToBuffer(out, 0, staging, 0, 4 * n);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ok = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const bad = ok.findIndex((v) => v !== 1);
    expect(bad === -1 ? "all exact" : `wrong at x = ${bad}`).toBe("all exact");
    for (const b of [out, staging, buffer!]) b.destroy();
  });
});

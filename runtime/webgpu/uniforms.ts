// The Dims uniforms (compiler/wgsl/dims.ts) of many dispatches, packed into one buffer at
// offsets aligned to the device's minUniformBufferOffsetAlignment and written once.

export interface UniformRegion {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/** One region per entry of `words` that has any (undefined where a kernel has no uniform). */
export function packUniforms(device: GPUDevice, words: ReadonlyArray<readonly number[] | undefined>, label = "dims"): { buffer?: GPUBuffer; regions: Array<UniformRegion | undefined> } {
  const align = device.limits.minUniformBufferOffsetAlignment;
  const offsets: Array<number | undefined> = [];
  let end = 0;
  for (const w of words) {
    if (!w?.length) {
      offsets.push(undefined);
      continue;
    }
    offsets.push(end);
    end = Math.ceil((end + 4 * w.length) / align) * align;
  }
  if (end === 0) return { regions: words.map(() => undefined) };
  const buffer = device.createBuffer({ size: end, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label });
  const data = new Uint32Array(end / 4);
  words.forEach((w, i) => {
    if (w?.length) data.set(w, offsets[i]! / 4);
  });
  device.queue.writeBuffer(buffer, 0, data as unknown as GPUAllowSharedBufferSource);
  const regions = words.map((w, i) => (w?.length ? { buffer, offset: offsets[i]!, size: 4 * w.length } : undefined));
  return { buffer, regions };
}

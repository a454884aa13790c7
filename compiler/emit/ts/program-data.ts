// A compiled program flattened to plain data (compiler/wgsl/program-data.ts) for a generated
// module: each value becomes a byte range of a buffer, equal shaders are stored once, and
// constants are computed here, so the runtime needs neither the graph nor the op registry.
import type { CompiledGraph } from "../../compile.js";
import type { Tensor, TensorData } from "../../ir/tensor.js";
import { isSource, type DType, type ValueId } from "../../ir/types.js";
import type { OpDef, RefContext } from "../../ops/def.js";
import type { OpKind } from "../../ops/index.js";
import { registry } from "../../ops/index.js";
import { bindingPlaces, stateCopies, type Placement } from "../../wgsl/program.js";
import type { ConstantData, KernelData, OutputData, ProgramData, RegionData, SourceData } from "../../wgsl/program-data.js";

// Float32 storage, as the device holds it (the interpreter's f32 context, without importing the runtime).
const HOST: RefContext = {
  precision: "f32",
  alloc: (dtype: DType, size: number): TensorData => (dtype === "i32" ? new Int32Array(size) : new Float32Array(size)),
};

export function programData(c: CompiledGraph): ProgramData {
  const { graph, kernels, plan } = c;
  const slots = plan.slots.length;
  const regionOf = (p: Placement): RegionData => [p.kind === "slot" ? p.index : slots + p.index, p.offset, p.size];
  const region = (id: ValueId): RegionData => {
    const p = plan.placement.get(id);
    if (!p) throw new Error(`internal: %${id} has no placement in the memory plan`);
    return regionOf(p);
  };

  const shaders: string[] = [];
  const shaderIndex = new Map<string, number>();
  const kernelData = kernels.map((k): KernelData => {
    let shader = shaderIndex.get(k.source.code);
    if (shader === undefined) {
      shader = shaders.push(k.source.code) - 1;
      shaderIndex.set(k.source.code, shader);
    }
    const layer = graph.nodes[k.output].label;
    const label = layer ? `${k.label} (${layer})` : k.label;
    const uniforms = k.source.uniforms?.length ? { uniforms: [...k.source.uniforms] } : {};
    return { shader, label, bindings: bindingPlaces(k, plan).map(regionOf), ...uniforms, workgroups: [...k.source.workgroups] };
  });

  const sources: SourceData[] = [];
  for (const n of graph.nodes) {
    if (!isSource(n) || !plan.placement.has(n.id)) continue; // a source no kernel reads has no storage
    const r = region(n.id);
    sources.push({ name: n.name, role: n.op, dtype: n.dtype, shape: [...n.shape], region: r });
  }

  const constants = plan.constants.flatMap((id): ConstantData[] => {
    const n = graph.nodes[id];
    if (isSource(n)) return [];
    const inputs: readonly Tensor[] = [];
    const data = (registry[n.op] as OpDef<OpKind>).reference(inputs, n.params, n, HOST);
    const values = Array.from(data, (v) => (n.dtype === "i32" ? v : Math.fround(v)));
    const r = region(id);
    return values.every((v) => v === values[0]) ? [{ region: r, dtype: n.dtype, fill: values[0] ?? 0, count: values.length }] : [{ region: r, dtype: n.dtype, values }];
  });

  const outputs: OutputData[] = graph.outputs.map((o) => ({ name: o.name, dtype: graph.nodes[o.value].dtype, shape: [...graph.nodes[o.value].shape], region: region(o.value) }));
  const copies = stateCopies(graph, plan).map((c) => ({ from: regionOf(c.from), to: regionOf(c.to) }));

  const l = c.limits;
  return {
    format: "unetc-program/1",
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    },
    buffers: [...plan.slots, ...plan.arenas],
    shaders,
    kernels: kernelData,
    sources,
    outputs,
    constants,
    copies,
  };
}

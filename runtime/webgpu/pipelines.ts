// Compute pipelines, cached by WGSL source. A shader that fails to compile is a unetc bug, not
// a user error: the message has every compiler message with line:col, and the numbered source.

export class ShaderCompileError extends Error {
  constructor(
    readonly label: string,
    readonly messages: string[],
    readonly code: string,
  ) {
    const numbered = code
      .split("\n")
      .map((l, i) => `${String(i + 1).padStart(4)} | ${l}`)
      .join("\n");
    super(`internal error: WGSL for ${label} does not compile (a unetc bug):\n${messages.join("\n")}\n${numbered}`);
    this.name = "ShaderCompileError";
  }
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** Dawn's node binding can free a shader module still referenced by a pipeline: keep them. */
  private readonly modules: GPUShaderModule[] = [];

  constructor(readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(code: string, label: string): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(code);
    if (!p) {
      p = this.create(code, label);
      this.pipelines.set(code, p);
    }
    return p;
  }

  private async create(code: string, label: string): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ code, label });
    this.modules.push(module);
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length) throw new ShaderCompileError(label, errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`), code);
    this.device.pushErrorScope("validation");
    const pipeline = await this.device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "main" }, label });
    const err = await this.device.popErrorScope();
    if (err) throw new ShaderCompileError(label, [err.message], code);
    return pipeline;
  }
}

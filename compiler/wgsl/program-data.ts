// A Program (program.ts) as plain data: what `unetc compile --emit ts` embeds in a generated
// module and what the small runtime entry (runtime/embed, `unetc/runtime`) runs. The graph is
// gone: every value the kernels touch is already a byte range of a buffer, constants are
// computed, and equal WGSL sources are stored once. Types only, so a bundle of the runtime
// carries none of the compiler.

/** A byte range of one of the program's buffers: [buffer index, offset, size]. */
export type RegionData = readonly [buffer: number, offset: number, size: number];

export type ValueDType = "f32" | "i32";

export interface KernelData {
  /** Index into `ProgramData.shaders`. */
  readonly shader: number;
  /** Where it came from (the layer), for error messages. */
  readonly label: string;
  /** The kernel's bindings in order: its inputs, then its output (compiler/wgsl/kernel.ts). */
  readonly bindings: readonly RegionData[];
  /** The Dims uniform's words (bound after the output), where the shader declares one. */
  readonly uniforms?: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

/** A graph input (parameter, buffer, per-run input or scalar) by name, written before a run. */
export interface SourceData {
  readonly name: string;
  readonly role: "input" | "param" | "buffer" | "scalar";
  readonly dtype: ValueDType;
  readonly shape: readonly number[];
  readonly region: RegionData;
}

export interface OutputData {
  readonly name: string;
  readonly dtype: ValueDType;
  readonly shape: readonly number[];
  readonly region: RegionData;
}

/** A value computed once on the host at compile time: one repeated value, or explicit values. */
export type ConstantData =
  | { readonly region: RegionData; readonly dtype: ValueDType; readonly fill: number; readonly count: number }
  | { readonly region: RegionData; readonly dtype: ValueDType; readonly values: readonly number[] };

/** The device limits the schedule and the memory plan were made for (a device must offer them). */
export interface ProgramLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly minStorageBufferOffsetAlignment: number;
}

/** The format tag; a runtime refuses data of another format. */
export type ProgramDataFormat = "unetc-program/1";

export interface ProgramData {
  readonly format: ProgramDataFormat;
  readonly limits: ProgramLimits;
  /** Byte sizes of the buffers: the memory plan's transient slots, then its persistent arenas. */
  readonly buffers: readonly number[];
  /** Distinct WGSL sources. */
  readonly shaders: readonly string[];
  /** In dispatch order: one command buffer encodes them all. */
  readonly kernels: readonly KernelData[];
  readonly sources: readonly SourceData[];
  readonly outputs: readonly OutputData[];
  readonly constants: readonly ConstantData[];
  /** After a run, each `new.X` output copied over source X (none in an eval program). */
  readonly copies: ReadonlyArray<{ readonly from: RegionData; readonly to: RegionData }>;
}

/** One input of the model, as a caller fills it (the batch axis first, `shape` per image). */
export interface ModelInputData {
  readonly name: string;
  /** image: the noisy images; timestep: the noise level t per image; label: class ids per image. */
  readonly kind: "image" | "timestep" | "label";
  readonly dtype: ValueDType;
  /** Per image, without the batch axis ([] for t and c). */
  readonly shape: readonly number[];
  /** label inputs: the number of classes. */
  readonly classes?: number;
}

/** A parameter or buffer the model loads, and the checkpoint name of its EMA average if it has one. */
export interface ModelParameterData {
  readonly name: string;
  readonly shape: readonly number[];
  readonly ema?: string;
  /** No kernel reads it (BatchNorm's counter in eval): loaded when the weights have it, else left zero. */
  readonly optional?: boolean;
}

/** The model around a program: what a generated module describes and the runtime checks. */
export interface ModelData {
  readonly name: string;
  /** The images one program run takes (the compiled batch); more are run in chunks of it. */
  readonly batch: number;
  readonly inputs: readonly ModelInputData[];
  readonly output: { readonly name: string; readonly dtype: ValueDType; readonly shape: readonly number[] };
  readonly parameters: readonly ModelParameterData[];
  /** Class names by id (class-conditional models). */
  readonly classNames?: readonly string[];
  /** The noise schedule it was trained with, when known at compile time (from a checkpoint). */
  readonly schedule?: "cosine" | "karras";
}

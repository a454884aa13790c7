// Maps a config of tests/reference (the PyTorch generator) to the spec and `--set` overrides
// that describe the same model.

export interface RefConfig {
  kind: "emb" | "plain";
  nfs: number[];
  num_layers: number;
  attn_chans?: number;
  attn_start?: number;
  n_classes?: number | null;
  image_size?: number;
  batch?: number;
}

export function specFor(c: RefConfig): { file: string; set: string[] } {
  const set = [`nfs=[${c.nfs.join(",")}]`, `num_layers=${c.num_layers}`];
  if (c.image_size) set.push(`size=${c.image_size}`);
  if (c.kind === "plain") return { file: "models/lesson/plain_unet.unet", set };
  set.push(`attn_chans=${c.attn_chans ?? 0}`, `attn_start=${c.attn_start ?? 1}`, `classes=${c.n_classes ?? 0}`);
  return { file: "models/lesson/emb_unet.unet", set };
}

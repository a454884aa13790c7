// Python source text: literals, identifiers, and the names PyTorch refuses for a submodule.

/** Python keywords: fine as module names (add_module takes them) but not as attribute syntax. */
const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case".split(" "),
);

/** Attributes of nn.Module (1.13 and later): `add_module` refuses a child with one of these names. */
export const MODULE_ATTRIBUTES = new Set(
  (
    "T_destination add_module apply bfloat16 buffers children cpu cuda double dump_patches eval extra_repr float forward " +
    "get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules named_buffers named_children " +
    "named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook " +
    "register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook " +
    "register_load_state_dict_pre_hook register_state_dict_pre_hook register_state_dict_post_hook register_module " +
    "register_parameter requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train type xpu mtia " +
    "zero_grad compile training call_super_init"
  ).split(" "),
);

/** A name usable as `obj.name`. */
export const isAttributeName = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);

/** A number as a Python float or int literal that reads back as the same double. */
export function pyNumber(x: number): string {
  if (Number.isNaN(x)) return 'float("nan")';
  if (!Number.isFinite(x)) return x > 0 ? 'float("inf")' : '-float("inf")';
  return String(x);
}

/** A float literal: `1.0` rather than `1`, so arithmetic reads as float arithmetic. */
export function pyFloat(x: number): string {
  const s = pyNumber(x);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

export const pyString = (s: string): string => JSON.stringify(s);

export const pyList = (xs: readonly number[]): string => `[${xs.join(", ")}]`;

/** A tuple literal: `(3,)` for one item. */
export const pyTuple = (xs: readonly string[]): string => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`);

/** `CamelCase` from a model name (`emb_unet` -> `EmbUnet`). */
export function className(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const camel = parts.map((p) => p[0].toUpperCase() + p.slice(1)).join("");
  return /^[A-Za-z_]/.test(camel) ? camel : `Model${camel}`;
}

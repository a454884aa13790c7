// Multi-head attention over tokens, from a fused q|k|v projection.
import type { AttentionLayout } from "../layer-kinds.js";
import { NONE, POISON } from "../values.js";
import { T } from "../types.js";
import { num, positive, requireKind, tensor, type Builtin } from "./signature.js";

export const ATTENTION = {
  attention: {
    layer: false,
    params: [
      { name: "qkv", type: T.tensor },
      { name: "head_dim", type: T.int, default: NONE },
      { name: "heads", type: T.int, default: NONE },
      { name: "layout", type: T.enumOf("per_head", "blocks"), default: { t: "str", v: "per_head" } },
    ],
    doc: "Multi-head softmax(QK^T / sqrt(d)) V over tokens [S, 3C] -> [S, C]. layout per_head: each head's features are [q_h | k_h | v_h] (the course's fused qkv); layout blocks: [q | k | v], each split into heads (concat of separate projections, as diffusers). Give exactly one of head_dim (channels per head) and heads.",
    apply: (ctx, a) => {
      const qkv = tensor(a.qkv);
      if (!requireKind(ctx, qkv, [2], "attention", "qkv")) return POISON;
      const [s, c3] = qkv.shape;
      if (c3 % 3 !== 0) return ctx.error("E0303", `attention needs q, k and v: features must be a multiple of 3, found ${c3}`, { span: ctx.argSpan("qkv") });
      const c = c3 / 3;
      if ((a.head_dim.t === "none") === (a.heads.t === "none")) {
        return ctx.error("E0106", "attention takes exactly one of `head_dim` and `heads`", { span: ctx.span, help: "`head_dim` is the number of channels per head (the course's attn_chans); heads = channels / head_dim" });
      }
      const given = a.heads.t !== "none" ? positive(ctx, a, "heads", "the number of heads") : positive(ctx, a, "head_dim", "the channels per head");
      if (given === undefined) return POISON;
      const heads = a.heads.t !== "none" ? given : c / given;
      if (!Number.isInteger(heads) || heads < 1 || c % heads !== 0) {
        const by = a.heads.t !== "none" ? `${num(a.heads)} heads` : `heads of ${num(a.head_dim)} channels`;
        return ctx.error("E0303", `${c} channels do not divide into ${by}`, {
          span: ctx.span,
          label: `${c} channels here`,
          help: a.heads.t !== "none" ? "use a number of heads that divides the channel count" : "use an attn_chans (channels per head) that divides every width that gets attention",
        });
      }
      // `layout` conformed to its enum type when the call was bound.
      const layout = (a.layout.t === "str" ? a.layout.v : "per_head") as AttentionLayout;
      return ctx.node("attention", [qkv], { heads, layout }, [s, c], { flops: 4 * s * s * c + 5 * heads * s * s });
    },
  },
} satisfies Record<string, Builtin>;

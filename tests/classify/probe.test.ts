import { it } from "vitest";
import { checkSpec } from "../../compiler/check/check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
it("probe", () => {
  for (const body of [
    `h = mean_pool(flatten(x))\n  return h`,
    `h = tap(mean_pool(x), "a")\n  h = tap(h, "a")\n  return h`,
    `h = tap(mean_pool(x), "2bad")\n  return h`,
    `h = tap(mean_pool(x), "loss")\n  return h`,
    `s = rearrange(x, "c h w -> (h w) c")\n  return tap(mean_pool(s), "tok")`,
    `return flatten(mean_pool(x))`,
    `return flatten(5)`,
  ]) {
  const text = `version 1
model tiny() {
  input x: image[3, 4, 5]
  ${body}
}
`;
  const r = checkSpec("tests/classify/bad.unet", { text });
  console.log(renderDiagnostics(r.diagnostics), r.diagnostics.map(d => d.code), r.graph?.nodes.map(n=>`${n.op}${JSON.stringify(n.shape)}`).join(" "));
  }
});

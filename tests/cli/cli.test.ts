// The CLI as a user runs it: exit codes, messages without stack traces, and `unetc run` output
// that equals the PyTorch vectors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensorsFile } from "../../runtime/io/safetensors.js";

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), "unetc-cli-"));
const VECTORS = "tests/reference/vectors/small_attn_cond.safetensors";
const SMALL = ["--set", "nfs=[8,16]", "--set", "attn_chans=4", "--set", "classes=3", "--set", "size=8"];

describe("unetc check", () => {
  it("prints the summary and exits 0 for a valid spec", () => {
    const r = unetc("check", "models/lesson/cond_unet.unet");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("parameters:            13,023,072 trainable");
    expect(r.stdout).toContain("forward FLOPs / image:");
    expect(r.stdout).toContain("activations / image:");
  });

  it("exits 1 with located diagnostics for a bad override, and never prints a stack", () => {
    const r = unetc("check", "models/lesson/emb_unet.unet", "--set", "attn_chans=12");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0303]");
    expect(r.stderr).toMatch(/--> models\/std\/lesson\.unet:\d+:\d+/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
  });

  it("exits 1 for a missing file and 2 for a usage error", () => {
    expect(unetc("check", join(tmp, "nope.unet")).code).toBe(1);
    expect(unetc("check", "--no-such-flag", "x.unet").code).toBe(2);
    expect(unetc("frobnicate").code).toBe(2);
  });

  it("--json gives the diagnostics as data", () => {
    const spec = join(tmp, "bad.unet");
    writeFileSync(spec, 'version 1\nimport "std/lesson"\nmodel m() {\n  input x: image[1, 8, 8]\n  return concat(x, skip)\n}\n');
    const r = unetc("check", spec, "--json");
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<{ code: string; span: { line: number } }> };
    expect(out.ok).toBe(false);
    expect(out.diagnostics[0].code).toBe("E0401");
    expect(out.diagnostics[0].span.line).toBe(5);
  });
});

describe("unetc compile", () => {
  it("prints the inference graph and the training step with op counts", () => {
    const g = unetc("compile", "models/lesson/cond_attn_unet.unet", "--emit", "graph", ...SMALL);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/%downs\.1\.resnets\.0\.attn\.qkv\.weight: f32\[48,16\] = param/);
    expect(g.stdout).toMatch(/ops: .*conv2d/);
    const t = unetc("compile", "models/lesson/cond_attn_unet.unet", "--emit", "train-graph", ...SMALL);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("conv2d_weight_grad");
    expect(t.stdout).toContain("output new.adam.m.conv_in.weight");
  });
});

describe("unetc run", () => {
  it("--mode step writes loss, gradients and updated parameters equal to PyTorch's", async () => {
    const out = join(tmp, "step.safetensors");
    const r = unetc("run", "models/lesson/emb_unet.unet", ...SMALL, "--weights", VECTORS, "--inputs", VECTORS, "--out", out, "--mode", "step", "--device", "reference");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const ours = (await readSafetensorsFile(out)).tensors;
    const ref = (await readSafetensorsFile(VECTORS)).tensors;
    const close = (a: string, b: string, tol: number) => {
      const x = ours.get(a)!.data;
      const y = ref.get(b)!.data;
      let diff = 0;
      let scale = 1e-3;
      for (let i = 0; i < y.length; i++) {
        diff = Math.max(diff, Math.abs(Number(x[i]) - Number(y[i])));
        scale = Math.max(scale, Math.abs(Number(y[i])));
      }
      expect(diff / scale, a).toBeLessThan(tol);
    };
    close("loss", "train.loss", 1e-5);
    close("output", "train.output", 1e-5);
    close("grad.downs.1.resnets.0.attn.qkv.weight", "grad.downs.1.resnets.0.attn.qkv.weight", 1e-4);
    close("downs.1.resnets.0.attn.qkv.weight", "step.downs.1.resnets.0.attn.qkv.weight", 1e-4);
    close("emb_mlp.0.0.running_var", "train.emb_mlp.0.0.running_var", 1e-5);
    expect(ours.get("emb_mlp.0.0.num_batches_tracked")!.dtype).toBe("I64");
  });

  it("reports mismatched tensors by name and shape", () => {
    const r = unetc("run", "models/lesson/emb_unet.unet", "--weights", VECTORS, "--inputs", VECTORS, "--out", join(tmp, "x.safetensors"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("input `x` has shape [4, 1, 8, 8]; the spec needs [4, 1, 32, 32]");
  });

  it("reports a corrupt weights file without a stack trace", () => {
    const bad = join(tmp, "bad.safetensors");
    writeFileSync(bad, "not a safetensors file at all");
    const r = unetc("run", "models/lesson/emb_unet.unet", ...SMALL, "--weights", bad, "--inputs", VECTORS, "--out", join(tmp, "y.safetensors"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad\.safetensors/);
  });
});

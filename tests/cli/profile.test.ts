// `unetc profile` and `run-step --opt` input errors, which need no device: a bad spec exits 1
// with a located diagnostic, a bad flag or level exits 2, never with a stack trace.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function unetc(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("unetc profile: bad input", () => {
  it("exits 1 with a located diagnostic for a bad spec", () => {
    const r = unetc("profile", "models/lesson/emb_unet.unet", "--set", "attn_chans=12", "--batch", "2");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0303]");
    expect(r.stderr).toMatch(/--> models\/std\/lesson\.unet:\d+:\d+/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
  });

  it("exits 2 for an unknown flag, a bad number or a bad --opt level", () => {
    expect(unetc("profile", "docs/walk.unet", "--no-such-flag").code).toBe(2);
    expect(unetc("profile", "docs/walk.unet", "--batch", "0").code).toBe(2);
    const r = unetc("profile", "docs/walk.unet", "--opt", "2");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected 0 or 1, found "2"');
    expect(unetc("run-step", "docs/walk.unet", "--opt", "fast").code).toBe(2);
  });
});

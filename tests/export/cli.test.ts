// `unetc export SPEC --to pytorch`: the folder it writes, its data file, and its refusals.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeBarFolder } from "../train/support.js";
import { describeWithTorch, python } from "./torch-env.js";

const root = mkdtempSync(join(tmpdir(), "unetc-export-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function unetc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { encoding: "utf8", timeout: 60_000 });
}

describe("unetc export --to pytorch", () => {
  it("writes the module, the trainer and their helpers (--no-data), and says so in --json", () => {
    const out = join(root, "cpu");
    const r = unetc("export", "models/lesson/cpu_unet.unet", "--to", "pytorch", "--out", out, "--no-data", "--set", "size=8", "--json");
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; to: string; model: string; files: Record<string, string> };
    expect(json).toMatchObject({ ok: true, to: "pytorch", model: "cpu_unet" });
    expect(Object.keys(json.files).sort()).toEqual(["README.md", "launch.py", "model.py", "train.py", "unetc.json", "unetc_io.py"]);
    const modelPy = readFileSync(join(out, "model.py"), "utf8");
    expect(modelPy).toContain("class CpuUnet(nn.Module):");
    expect(modelPy).toContain("--set size=8 --to pytorch");
    const info = JSON.parse(readFileSync(join(out, "unetc.json"), "utf8")) as { checkpoint_metadata: Record<string, string>; data: unknown };
    expect(info.data).toBeNull();
    // What every checkpoint of the run records about the spec, and nothing that changes per run.
    expect(JSON.parse(info.checkpoint_metadata.spec)).toMatchObject({ model: "cpu_unet", overrides: ["size=8"] });
    expect(info.checkpoint_metadata).not.toHaveProperty("position");
    expect(info.checkpoint_metadata.format).toBe("unetc-checkpoint/1");
  });

  it("refuses a spec that does not check, writing nothing", () => {
    const out = join(root, "bad");
    const r = unetc("export", "models/lesson/emb_unet.unet", "--to", "pytorch", "--out", out, "--no-data", "--set", "nfs=[8,12]", "--set", "size=6");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a layer named like an nn.Module attribute, saying which", () => {
    const spec = join(root, "forward.unet");
    writeFileSync(spec, "version 1\nmodel m() {\n  input x: image[1, 8, 8]\n  input t: timestep\n  return conv2d(x, 1) as forward\n}\n");
    const r = unetc("export", spec, "--to", "pytorch", "--out", join(root, "fwd"), "--no-data");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot name a module or parameter `forward`/);
  });
});

describeWithTorch("unetc export --to pytorch --data", () => {
  it("writes a folder of PNGs as data.bin, which train.py reads with unetc's split", () => {
    const pngs = join(root, "pngs");
    writeBarFolder(pngs, 10);
    const out = join(root, "withdata");
    const r = unetc("export", "models/lesson/emb_unet.unet", "--to", "pytorch", "--out", out, "--data", pngs, "--set", "nfs=[4,8]", "--set", "size=8", "--set", "classes=2");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("20 images");
    const code = `import sys; sys.path.insert(0, ${JSON.stringify(out)}); import unetc_io as u
ds, test = u.read_dataset(${JSON.stringify(join(out, "data.bin"))}); tr, te = u.split(ds)
print(ds.count, tr.count, te.count, ",".join(ds.class_names), ds.source)`;
    const printed = python(["-c", code]).stdout.trim();
    expect(printed).toBe(`20 18 2 horizontal,vertical ${pngs}`);
  });
});

// Where the PyTorch tests find PyTorch: Debian's python3-torch under /usr/bin/python3 (a pyenv
// `python3` on the PATH has no torch). Without it the suites skip, saying why, unless
// UNETC_REQUIRE_TORCH=1 (CI), where they fail.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { describe, it } from "vitest";

export const PYTHON = process.env.UNETC_PYTHON ?? "/usr/bin/python3";

const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
export const HAS_TORCH = probe.status === 0;
const REQUIRED = process.env.UNETC_REQUIRE_TORCH === "1";
const WHY = `${PYTHON} cannot import torch (apt-get install -y --no-install-recommends python3-torch)`;

/** A suite that needs PyTorch: skipped with the reason where it is absent, failed where it is required. */
export function describeWithTorch(name: string, body: () => void): void {
  if (HAS_TORCH) {
    describe(name, body);
    return;
  }
  if (REQUIRED) {
    describe(name, () => {
      it("has PyTorch", () => {
        throw new Error(`UNETC_REQUIRE_TORCH=1 but ${WHY}: ${(probe.stderr || String(probe.error ?? "")).trim().split("\n").pop()}`);
      });
    });
    return;
  }
  const reason = `skipped: ${WHY}; UNETC_REQUIRE_TORCH=1 makes this a failure`;
  console.warn(`${name}: ${reason}`);
  describe.skip(`${name} (${reason})`, body);
}

/** Runs a Python script; throws with its output when it fails. */
export function python(args: readonly string[], o: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(PYTHON, [...args], { encoding: "utf8", cwd: o.cwd, timeout: o.timeout ?? 120_000, env: { ...process.env, OMP_NUM_THREADS: "1", ...o.env } });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

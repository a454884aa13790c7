// A cold start on this machine, as a user's first run meets it: bench/step.ts in a fresh process
// on an empty Mesa shader cache (MESA_SHADER_CACHE_DIR, a new folder each run), with pipelines
// compiled ahead (runtime/webgpu/compile-ahead.ts) and without (UNETC_COMPILE_AHEAD=0),
// alternating, so both meet the machine in the same state. Prints, per run, the session's
// creation (compiling the program, creating and, ahead, compiling its pipelines), the first
// step, the time to the first step's end, and the steady step; then the medians as ratios.
// Usage: bench/cold-start.ts [--config S|M] [--rounds N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Run {
  ahead: boolean;
  createMs: number;
  firstMs: number;
  steadyMs: number;
}

function parseArgs(argv: string[]): { config: string; rounds: number } {
  const a = { config: "S", rounds: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === "--config") a.config = argv[i + 1];
    else if (argv[i] === "--rounds") a.rounds = Number(argv[i + 1]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

function coldRun(config: string, ahead: boolean): Run {
  const dir = mkdtempSync(join(tmpdir(), "unetc-cold-"));
  try {
    const json = join(dir, "step.json");
    const env: NodeJS.ProcessEnv = { ...process.env, MESA_SHADER_CACHE_DIR: join(dir, "mesa"), UNETC_COMPILE_AHEAD: ahead ? "1" : "0" };
    delete env.MESA_SHADER_CACHE_DISABLE;
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/step.ts", "--config", config, "--steps", "2", "--tfjs", "no", "--baseline", "none", "--opt0", "no", "--json", json], { encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`bench/step.ts failed:\n${r.stderr}`);
    const out = JSON.parse(readFileSync(json, "utf8")) as { compileMs: number; webgpu: { first: number; median: number } };
    return { ahead, createMs: out.compileMs, firstMs: out.webgpu.first, steadyMs: out.webgpu.median };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const args = parseArgs(process.argv.slice(2));
const runs: Run[] = [];
for (let round = 1; round <= args.rounds; round++) {
  for (const ahead of [true, false]) {
    const r = coldRun(args.config, ahead);
    runs.push(r);
    console.log(
      `round ${round}, ${ahead ? "compiled ahead " : "compiled lazily"}: create ${s(r.createMs)}, first step ${s(r.firstMs)}, ` +
        `to the first step's end ${s(r.createMs + r.firstMs)}, steady ${r.steadyMs.toFixed(0)} ms; ` +
        `first step ${(r.firstMs / r.steadyMs).toFixed(2)}x a steady one, create + first ${((r.createMs + r.firstMs) / r.steadyMs).toFixed(2)}x`,
    );
  }
}
const of = (ahead: boolean, f: (r: Run) => number) => median(runs.filter((r) => r.ahead === ahead).map(f));
const toEnd = (r: Run) => r.createMs + r.firstMs;
console.log(
  `config ${args.config}, medians of ${args.rounds}: to the first step's end ${s(of(false, toEnd))} lazily, ${s(of(true, toEnd))} compiled ahead ` +
    `(${(of(false, toEnd) / of(true, toEnd)).toFixed(2)}x sooner); first step ${s(of(false, (r) => r.firstMs))} -> ${s(of(true, (r) => r.firstMs))}`,
);

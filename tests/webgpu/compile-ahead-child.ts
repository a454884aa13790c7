// Run by compile-ahead.test.ts in a process of its own, with MESA_SHADER_CACHE_DIR set to an
// empty folder: creates an executor for a small program, then runs it once, and prints (JSON)
// what it compiled ahead and the bytes in Mesa's shader cache after creating it and after the
// run. llvmpipe writes every shader it compiles there, so a run that compiles adds bytes.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { compileGraph } from "../../compiler/compile.js";
import { acquireDevice, deviceTarget } from "../../runtime/webgpu/device.js";
import { GraphExecutor } from "../../runtime/webgpu/executor.js";

const bytesUnder = (dir: string): number =>
  readdirSync(dir).reduce((a, f) => {
    const p = join(dir, f);
    const s = statSync(p);
    return a + (s.isDirectory() ? bytesUnder(p) : s.size);
  }, 0);
// Mesa writes its cache from a thread of its own: let what was compiled land before counting
const cacheBytes = async () => {
  await new Promise((r) => setTimeout(r, 500));
  return bytesUnder(process.env.MESA_SHADER_CACHE_DIR!);
};

const ctx = await acquireDevice();
const b = new GraphBuilder();
const x = b.input("x", [16, 24]);
const h = b.relu(b.matmul(x, b.input("w", [24, 32])));
b.output("p", b.softmax(b.matmul(h, b.input("v", [32, 8]))));
b.output("s", b.sum(b.exp(h), 1));
const exec = await GraphExecutor.create(ctx, compileGraph(b.build(), deviceTarget(ctx)));
const created = await cacheBytes();
exec.run();
await exec.read("p");
const ran = await cacheBytes();
console.log(JSON.stringify({ pipelines: exec.stats.pipelines, ahead: exec.stats.ahead ?? null, created, ran }));
process.exit(0);

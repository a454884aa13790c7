// The folder unetc is installed in (it holds models/), found from this module's own location so
// it works both from sources (tsx) and from the compiled dist/ tree.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "unetc") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the unetc package root");
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
export const MODELS_DIR = join(PACKAGE_ROOT, "models");

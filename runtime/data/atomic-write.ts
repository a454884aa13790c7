// Atomic file writes: write a temporary file beside the target, fsync it, rename it over the
// target, then fsync the folder, so a reader (or a crash, or a power cut) never sees a
// half-written checkpoint, cache, image or log: the target is the old file or the new one.
// A writer killed mid-write leaves its temporary file (`<name>.tmp-<pid>-...`); the next write
// or load of the same target removes it once its process is gone.
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let counter = 0; // two writes of one target in the same millisecond get different names

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(path);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${counter++}`;
  try {
    const file = await open(tmp, "wx");
    try {
      await file.writeFile(data);
      await file.sync(); // the bytes are on disk before the name points at them
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(dir); // the rename itself survives a power cut
}

/** fsync a folder; some file systems (and Windows) cannot, which only weakens durability. */
async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "ENOTSUP" && code !== "EBADF") throw err;
  } finally {
    await handle?.close();
  }
}

/** Whether a process with this id still runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files that killed writers left beside `path` (`<name>.tmp-<pid>` and
 * `<name>.tmp-<pid>-...`, the names this module and the safetensors writer use) whose process no
 * longer runs; a live writer's file is left alone. Best effort: returns the names removed.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return []; // no folder yet: nothing stale
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)(?:-|$)/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    try {
      await rm(join(dirname(path), name), { force: true });
      removed.push(name);
    } catch {
      // another process removed it first, or it cannot be removed: the target is unaffected
    }
  }
  return removed;
}

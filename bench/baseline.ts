/**
 * A benchmark's "before": the repository as commit `ref` had it (or only `paths` of it), unpacked
 * with `git archive` into `dir`, with this checkout's node_modules linked in, so that both sides
 * run on the same packages. Used by `--baseline REF` of bench/verify.ts and bench/smoke.ts.
 */
import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../model/paths";

export function unpackBaseline(ref: string, dir: string, paths: readonly string[] = []): string {
  const archive = spawnSync("git", ["archive", "--format=tar", ref, ...paths], {
    cwd: REPO_ROOT,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (archive.status !== 0)
    throw new Error(
      `--baseline ${ref}: git archive failed (${archive.stderr.toString().trim()}); give a commit of this repository`,
    );
  const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
  if (untar.status !== 0)
    throw new Error(`--baseline ${ref}: tar failed: ${untar.stderr.toString().trim()}`);
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

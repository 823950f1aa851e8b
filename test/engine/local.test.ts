/**
 * `npm run local` as a process, where it stops before any stack: a step it runs (a script of
 * tools/cluster or tools/engine) ends it with that step's own exit code from the shared table, not
 * one code for every failure. Here the engine is built (this suite runs after npm run
 * engine:build), and cluster:up is pointed at a folder it did not make, which it refuses (exit 2)
 * before it starts anything. The run that promotes all three stacks is the stacks suite's.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT } from "../../model/cli";
import { REPO_ROOT } from "../../model/paths";

describe("npm run local (tools/local.ts), ended by a failing step", function () {
  let foreign: string;
  before(() => {
    foreign = mkdtempSync(path.join(os.tmpdir(), "local-foreign-"));
    writeFileSync(path.join(foreign, "keep.txt"), "not a cluster's");
  });
  after(() => rmSync(foreign, { recursive: true, force: true }));

  it("exits with cluster:up's code (2, bad input), names the step, and leaves the folder as it was", function () {
    const r = spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "tools/local.ts", "--yes"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, ENV_PROGRESSION_CLUSTER_DIR: foreign },
        timeout: 120_000,
      },
    );
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, EXIT.usage, output);
    assert.match(r.stdout, /^local: building the engine .*\n/);
    assert.match(r.stderr, /cluster:up: .* is not a state dir this script made/);
    assert.match(
      r.stderr,
      /\nlocal: starting the local control plane failed \(exit 2\); see the lines above\n$/,
    );
    assert.deepEqual(readdirSync(foreign), ["keep.txt"]);
  });
});

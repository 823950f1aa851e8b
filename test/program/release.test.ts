/**
 * RELEASE_COMMAND, the shell line that names the commit being deployed, run by /bin/sh in real
 * directories: a clean checkout, a dirty one, and a directory outside any checkout. It must print
 * only the answer: whatever it writes to stderr shows up in `pulumi up`'s output.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RELEASE_COMMAND, versionFromCommit } from "../../components/release";
import { findOnPath } from "../../tools/promote/setup";

function release(dir: string) {
  const run = spawnSync("/bin/sh", ["-c", RELEASE_COMMAND], {
    cwd: dir,
    encoding: "utf8",
    // No inherited GIT_DIR and no parent repository above the temp dir.
    env: { PATH: process.env.PATH, HOME: dir, GIT_CEILING_DIRECTORIES: path.dirname(dir) },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("the release command (which commit is deployed)", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "release-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("prints `unknown` and nothing on stderr outside a git checkout", () => {
    assert.deepEqual(release(dir), { status: 0, stdout: "unknown\n", stderr: "" });
    assert.equal(versionFromCommit("unknown"), "unknown");
  });

  it("prints HEAD's commit in a clean checkout, and marks it -dirty when a tracked file changed", function () {
    if (!findOnPath("git")) this.skip();
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: dir },
      }).trim();
    git("init", "-q");
    writeFileSync(path.join(dir, "a.txt"), "one\n");
    git("add", "a.txt");
    git("commit", "-q", "-m", "one");
    const head = git("rev-parse", "HEAD");

    assert.deepEqual(release(dir), { status: 0, stdout: `${head}\n`, stderr: "" });
    // An untracked file is not a change to what is deployed.
    writeFileSync(path.join(dir, "notes.txt"), "scratch\n");
    assert.equal(release(dir).stdout, `${head}\n`);

    writeFileSync(path.join(dir, "a.txt"), "two\n");
    assert.deepEqual(release(dir), { status: 0, stdout: `${head}-dirty\n`, stderr: "" });
    assert.equal(versionFromCommit(`${head}-dirty`), `${head.slice(0, 12)}-dirty`);
  });
});

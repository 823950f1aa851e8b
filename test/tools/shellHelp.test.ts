/**
 * The scripts of tools/cluster and tools/engine follow the convention of the TypeScript commands
 * (docs/cli.md): the same `--help` ending, the same exit-code table, one line for bad usage. The
 * table is a copy in tools/lib/help.sh (a script's --help cannot load TypeScript); this holds the
 * copy to model/cli.ts, and each script's exits to it, on conditions made here on purpose.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT, EXIT_CODES_HELP } from "../../model/cli";
import { REPO_ROOT } from "../../model/paths";

const HELP_SH = path.join(REPO_ROOT, "tools", "lib", "help.sh");

/** Each script with the npm script that runs it. */
const SCRIPTS = [
  ["tools/cluster/up.sh", "cluster:up"],
  ["tools/cluster/down.sh", "cluster:down"],
  ["tools/cluster/kubeconfig.sh", "cluster:kubeconfig"],
  ["tools/engine/bin.sh", "engine:bin"],
  ["tools/engine/build.sh", "engine:build"],
] as const;

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync("bash", [path.join(REPO_ROOT, script), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

describe("the shell commands' convention (tools/lib/help.sh)", function () {
  let scratch: string;
  before(() => (scratch = mkdtempSync(path.join(os.tmpdir(), "shell-help-"))));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("holds model/cli.ts's exit codes and table, to the letter", function () {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `. "$1"; exit_codes_help; echo "$EXIT_OK $EXIT_FAILED $EXIT_USAGE $EXIT_PREREQUISITE $EXIT_INTERNAL"`,
        "-",
        HELP_SH,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    const codes = lines.pop();
    assert.equal(lines.join("\n"), EXIT_CODES_HELP);
    assert.equal(
      codes,
      [EXIT.ok, EXIT.failed, EXIT.usage, EXIT.prerequisite, EXIT.internal].join(" "),
    );
  });

  for (const [script, name] of SCRIPTS) {
    it(`${name}: --help and -h print its usage ending with the table and exit 0; anything else is one line, exit 2`, function () {
      for (const flag of ["--help", "-h"]) {
        const help = run(script, [flag]);
        assert.equal(help.status, EXIT.ok, help.stderr);
        assert.match(
          help.stdout,
          new RegExp(`^Usage: npm run (--silent )?${name} \\[-- --help\\]\n`),
        );
        // The TypeScript commands' layout: the usage line, what it does, then "Options:".
        assert.match(
          help.stdout,
          /^Usage: .*\n\n\S.*\n(?:.*\n)*?\nOptions:\n {2}--help, -h {3}show this help\n/,
        );
        assert.ok(help.stdout.trimEnd().endsWith(EXIT_CODES_HELP), help.stdout);
        assert.equal(help.stderr, "");
      }
      const bad = run(script, ["--frobnicate"]);
      assert.equal(bad.status, EXIT.usage);
      assert.equal(bad.stdout, "");
      assert.equal(
        bad.stderr,
        `${name}: unknown argument '--frobnicate'; it takes only --help (see --help)\n`,
      );
    });
  }

  it("engine:bin and cluster:up: an engine not built is a missing prerequisite (3), naming engine:build", function () {
    const env = {
      ENV_PROGRESSION_CACHE: path.join(scratch, "empty-cache"),
      ENV_PROGRESSION_CLUSTER_DIR: path.join(scratch, "no-cluster"),
    };
    for (const script of ["tools/engine/bin.sh", "tools/cluster/up.sh"]) {
      const r = run(script, [], env);
      assert.equal(r.status, EXIT.prerequisite, `${script}: ${r.stderr}`);
      assert.match(r.stderr, /not built.*run npm run engine:build/);
      assert.equal(r.stdout, "");
    }
  });

  it("cluster:kubeconfig: no cluster running is a missing prerequisite (3), naming cluster:up", function () {
    const r = run("tools/cluster/kubeconfig.sh", [], {
      ENV_PROGRESSION_CLUSTER_DIR: path.join(scratch, "no-cluster"),
    });
    assert.equal(r.status, EXIT.prerequisite, r.stderr);
    assert.match(r.stderr, /no cluster runs .*; run npm run cluster:up\n$/);
    assert.equal(r.stdout, "");
  });

  it("a command failing where no script expects it is exit 70 and one line naming it, however deep it failed", function () {
    // A sha256sum that fails, inside engine_bin_dir's $(...) pipeline, inside bin.sh's $(...).
    const stubs = path.join(scratch, "stubs");
    mkdirSync(stubs);
    writeFileSync(path.join(stubs, "sha256sum"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const r = run("tools/engine/bin.sh", [], {
      PATH: `${stubs}${path.delimiter}${process.env.PATH}`,
    });
    assert.equal(r.status, EXIT.internal, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^engine:bin: internal error: '.+' exited 1 \(tools\/engine\/paths\.sh, near line \d+\)\n$/,
    );
  });

  it("engine:build: a wrapper module that disagrees with its pin is bad input (2), before anything is built", function () {
    // A copy of tools/engine and tools/lib whose versions.json pins another pulumi than its
    // wrapper's go.mod requires; the cache is a scratch folder, so nothing real is touched.
    const copy = path.join(scratch, "repo");
    for (const dir of ["tools/engine", "tools/lib"])
      cpSync(path.join(REPO_ROOT, dir), path.join(copy, dir), { recursive: true });
    const pins = path.join(copy, "tools/engine/versions.json");
    const doc = JSON.parse(readFileSync(pins, "utf8"));
    const pulumi = doc.binaries.find((b: { name: string }) => b.name === "pulumi");
    pulumi.version = "v3.0.0";
    writeFileSync(pins, JSON.stringify(doc, null, 2));
    const cache = path.join(scratch, "build-cache");
    const r = spawnSync("bash", [path.join(copy, "tools/engine/build.sh")], {
      encoding: "utf8",
      // GOPROXY off: were the check ever to pass, a build would fail at once, not download.
      env: { ...process.env, ENV_PROGRESSION_CACHE: cache, GOPROXY: "off" },
    });
    assert.equal(r.status, EXIT.usage, r.stderr);
    assert.equal(
      r.stderr,
      "engine:build: tools/engine/go/pulumi/go.mod does not require github.com/pulumi/pulumi/pkg/v3 v3.0.0 as tools/engine/versions.json pins it; run 'go get github.com/pulumi/pulumi/pkg/v3@v3.0.0' there\n",
    );
    const built = readdirSync(path.join(cache, "engine")).flatMap((d) =>
      readdirSync(path.join(cache, "engine", d)).filter((f) => !f.startsWith(".")),
    );
    assert.deepEqual(built, [], "nothing is built");
  });

  it("cluster:down: a folder cluster:up did not make is bad input (2), and is left as it was", function () {
    const foreign = path.join(scratch, "foreign");
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, "keep.txt"), "mine");
    const r = run("tools/cluster/down.sh", [], { ENV_PROGRESSION_CLUSTER_DIR: foreign });
    assert.equal(r.status, EXIT.usage, r.stderr);
    assert.match(r.stderr, /is not a state dir cluster:up made .*; leaving it alone\n$/);
    assert.equal(readFileSync(path.join(foreign, "keep.txt"), "utf8"), "mine");
  });
});

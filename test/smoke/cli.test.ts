/**
 * The smoke CLI, as a process: the command `npm run smoke` runs, against servers on loopback.
 * Exit codes from model/cli.ts (0, 1, 2, 70 for a run that could not happen), one line per check and a summary, usage errors in one line, no secret printed.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { EXIT, EXIT_CODES_HELP } from "../../model/cli";
import { main } from "../../smoke/cli";
import { CONTRACT_CHECKS, repeatChecks } from "../../smoke/contract";
import {
  CANARY,
  certificates,
  contractApp,
  startServer,
  startSilentServer,
  TestServer,
  TOKEN_HEADER,
} from "./support";
import { REPO_ROOT as ROOT } from "../../model/paths";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The command behind `npm run smoke`, with this process's Node (24) in place of `node`. */
function smokeCommand(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const words = (pkg.scripts.smoke ?? "").split(/\s+/).filter((w) => w !== "");
  assert.equal(words[0], "node", "npm run smoke starts node");
  return [process.execPath, ...words.slice(1)];
}

function run(
  args: string[],
  env: Record<string, string> = {},
  command = smokeCommand(),
): Promise<Run> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(
      command[0] as string,
      [...command.slice(1), ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        assert.ok(
          !stdout.includes(CANARY) && !stderr.includes(CANARY),
          "the CLI printed the secret",
        );
        resolve({ code, stdout, stderr, ms });
      },
    );
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

describe("smoke CLI (as a process)", function () {
  this.timeout(30_000);
  const servers: TestServer[] = [];
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "smoke-cli-"));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
    const s = await startServer(...args);
    servers.push(s);
    return s;
  }

  it("passes: exit 0, one line per check and a summary", async () => {
    const server = await serve(contractApp());
    const r = await run([
      server.url,
      "--expect-version",
      "1.4.0",
      "--header",
      `${TOKEN_HEADER}: ${CANARY}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const out = lines(r.stdout);
    assert.equal(out.length, 6, r.stdout);
    assert.match(
      out[0] ?? "",
      new RegExp(`^smoke ${server.url}  expect 1\\.4\\.0  deadline 60 s$`),
    );
    assert.match(out[1] ?? "", /^✓ health +200 +\d+ ms$/);
    assert.match(out[2] ?? "", /^✓ version +200 +\d+ ms {2}1\.4\.0$/);
    assert.match(out[5] ?? "", /^PASS {2}4 of 4 checks passed in \d+\.\d\d s, version 1\.4\.0$/);
    for (const hit of server.hits) assert.equal(hit.headers[TOKEN_HEADER.toLowerCase()], CANARY);
  });

  it("fails: exit 1, the failing check with its URL, what came back and what was expected", async () => {
    const server = await serve(contractApp({ connected: false }));
    const r = await run([server.url, "--header-env", `${TOKEN_HEADER}=SMOKE_TOKEN`], {
      SMOKE_TOKEN: CANARY,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const failed = lines(r.stdout).find((l) => l.startsWith("✗"));
    assert.match(
      failed ?? "",
      new RegExp(
        `^✗ database +200 +\\d+ ms  GET ${server.url}/api/db-status: got 200 with \\.connected = false: .*connection refused.*; expected 2xx with JSON \\.connected == true$`,
      ),
    );
    assert.match(lines(r.stdout).at(-1) ?? "", /^FAIL {2}1 of 4 checks failed in/);
    assert.equal(
      server.hits.find((h) => h.path === "/api/db-status")?.headers[TOKEN_HEADER.toLowerCase()],
      CANARY,
    );
  });

  it("prints the report as JSON with --json", async () => {
    const server = await serve(contractApp());
    const r = await run([server.url, "--json"]);
    assert.equal(r.code, 0);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      verifiedVersion: string;
      results: { name: string; ok: boolean }[];
    };
    assert.equal(report.ok, true);
    assert.equal(report.verifiedVersion, "1.4.0");
    assert.deepEqual(
      report.results.map((x) => x.name),
      CONTRACT_CHECKS.map((c) => c.name),
    );
  });

  it("runs the checks listed in --checks FILE", async () => {
    const server = await serve(contractApp());
    const file = path.join(dir, "checks.json");
    writeFileSync(file, JSON.stringify(repeatChecks(CONTRACT_CHECKS, 16)));
    const r = await run([server.url, "--checks", file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(lines(r.stdout).filter((l) => l.startsWith("✓")).length, 16);
    assert.equal(server.hits.length, 16);
  });

  it("trusts the CA given with --ca, and verifies TLS without it", async () => {
    const { caPem, key, cert } = certificates();
    const server = await serve(contractApp(), { key, cert });
    const file = path.join(dir, "ca.pem");
    writeFileSync(file, caPem);
    assert.equal((await run([server.url, "--ca", file])).code, 0);
    const r = await run([server.url, "--deadline", "5"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /TLS certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });

  it("ends at its deadline when the target stops answering", async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    // undici runs its headers timer on a coarse clock (about 1 s): a 0.3 s timeout fires near 1 s.
    const r = await run([silent.url, "--deadline", "2.5", "--timeout", "0.3"]);
    assert.equal(r.code, 1);
    assert.ok(r.ms < 2500 + 2500, `took ${r.ms} ms`);
    assert.match(
      r.stdout,
      /no response headers within 0\.3 s \(UND_ERR_HEADERS_TIMEOUT\), still failing at the deadline \(2\.5 s\)/,
    );
    assert.match(r.stdout, /\(deadline of 2\.50 s reached\)/);
  });

  it("says what it checks before the run, so a long run shows its target at once", async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const [cmd, ...pre] = smokeCommand();
    const child = spawn(
      cmd as string,
      [...pre, silent.url, "--deadline", "2", "--timeout", "0.3"],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    const chunks: { at: number; text: string }[] = [];
    child.stdout.on("data", (b: Buffer) => chunks.push({ at: Date.now(), text: b.toString() }));
    const exitedAt = await new Promise<number>((resolve) =>
      child.on("close", () => resolve(Date.now())),
    );
    assert.ok(chunks.length >= 2, JSON.stringify(chunks));
    assert.equal(chunks[0]?.text, `smoke ${silent.url}  deadline 2 s\n`);
    // The head came out while the checks were still waiting on the silent target.
    assert.ok(
      exitedAt - (chunks[0]?.at ?? exitedAt) > 1000,
      JSON.stringify(chunks.map((c) => c.at)),
    );
  });

  it("a run that cannot happen is an internal error (70), never the verdict 'a check failed'", async () => {
    const err: string[] = [];
    const code = await main(["http://127.0.0.1:1"], {
      out: () => undefined,
      err: (text) => err.push(text),
      env: {},
      color: false,
      readFile: () => "",
      loadUndici: () => {
        throw new Error("undici is not installed");
      },
    });
    assert.equal(code, EXIT.internal);
    assert.notEqual(EXIT.internal, EXIT.failed);
    assert.deepEqual(err, ["smoke: could not run: undici is not installed\n"]);
  });

  it("prints its usage with --help", async () => {
    const r = await run(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: npm run smoke -- <baseUrl> \[options\]/);
    assert.ok(r.stdout.includes(EXIT_CODES_HELP), "the shared exit-code table");
  });

  const usage: [string, string[], RegExp][] = [
    ["no base URL", [], /missing <baseUrl>/],
    ["two base URLs", ["http://a", "http://b"], /one <baseUrl> expected, got 2/],
    [
      "an unknown option",
      ["http://a", "--dedline", "5"],
      /^smoke: unknown option --dedline \(see --help\)$/,
    ],
    [
      "a missing option value",
      ["http://a", "--deadline"],
      /^smoke: --deadline needs a value \(see --help\)$/,
    ],
    [
      "a value given to a flag that takes none",
      ["http://a", "--json=1"],
      /^smoke: --json takes no value: write --json alone \(see --help\)$/,
    ],
    [
      "a deadline that is not a number",
      ["http://a", "--deadline", "soon"],
      /--deadline must be a positive number of seconds, got "soon"/,
    ],
    [
      "a header without a colon",
      ["http://a", "--header", CANARY],
      /--header must look like 'Name: value'/,
    ],
    [
      "a bad header name",
      ["http://a", "--header", `X Token: ${CANARY}`],
      /is not a valid header name/,
    ],
    [
      "a header-env variable that is not set",
      ["http://a", "--header-env", "X-Token=SMOKE_UNSET_VAR"],
      /environment variable SMOKE_UNSET_VAR \(for --header-env X-Token\) is not set/,
    ],
    [
      "a control character in a header value",
      ["http://a", "--header", `X-Token: ${CANARY}\x01`],
      /--header X-Token: the value must not contain control characters/,
    ],
    [
      "a CA file that cannot be read",
      ["http://a", "--ca", "/nonexistent/ca.pem"],
      /cannot read --ca file \/nonexistent\/ca\.pem \(ENOENT\)/,
    ],
    ["a URL that is not http(s)", ["ftp://a"], /<baseUrl> must start with http:\/\/ or https:\/\//],
    [
      "credentials in the URL",
      [`https://user:${CANARY}@a.example.com`],
      /<baseUrl> must not carry credentials/,
    ],
  ];
  for (const [what, args, message] of usage) {
    it(`rejects ${what}: exit 2, one line, no stack`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, "");
      const err = lines(r.stderr);
      assert.equal(err.length, 1, r.stderr);
      assert.match(err[0] ?? "", /^smoke: .* \(see --help\)$/);
      assert.match(err[0] ?? "", message);
    });
  }

  it("rejects a control character in a --header-env value, naming the variable, never the value", async () => {
    const r = await run(["http://a", "--header-env", "X-Token=SMOKE_BAD_TOKEN"], {
      SMOKE_BAD_TOKEN: `${CANARY}\x07`,
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(
      lines(r.stderr)[0],
      "smoke: --header-env X-Token=SMOKE_BAD_TOKEN: the value of SMOKE_BAD_TOKEN must not contain control characters (a tab is allowed) (see --help)",
    );
    assert.ok(!(r.stdout + r.stderr).includes(CANARY));
  });

  it("reaches undici through its package entry point only, and passes Node no flag", async () => {
    const command = smokeCommand();
    assert.deepEqual(
      command.slice(1),
      ["smoke/bin.mjs"],
      "npm run smoke: node and the script only",
    );
    const server = await serve(contractApp());
    const log = path.join(dir, "undici-specifiers.json");
    const recorder = pathToFileURL(path.join(__dirname, "undiciResolutions.mjs")).href;
    const r = await run([server.url], { SMOKE_RESOLVE_LOG: log }, [
      process.execPath,
      "--import",
      recorder,
      ...command.slice(1),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(readFileSync(log, "utf8")),
      ["undici"],
      "what the CLI required of undici, outside undici itself",
    );
  });

  it("is what `npm run smoke` runs", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = await run(["--help"], {}, [npm, "run", "--silent", "smoke", "--"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: npm run smoke/);
  });
});

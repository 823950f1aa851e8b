/**
 * The end-to-end suite's own moving parts, proven here so that a cluster run fails only for what
 * the cluster is there to prove.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PRELOAD, brokenReleaseFromEnv, dockerfile } from "../e2e/brokenRelease";
import { isLoopback, smokeHost } from "../e2e/hosts";
import { commitCopy, copyProject, type ProjectCopy } from "../e2e/workspace";
import { findOnPath } from "../../tools/promote/setup";

const REPO = path.resolve(__dirname, "../..");

/** The reference app as a process on loopback, optionally with the broken release's preload. */
async function startApp(extraEnv: Record<string, string>): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(REPO, "app", "server.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      APP_ENV: "dev",
      APP_VERSION: "1.2.3",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.includes('"listening"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on("exit", (code) => reject(new Error(`app exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGKILL") };
}

async function testAction(url: string): Promise<unknown> {
  const res = await fetch(`${url}/api/test-action`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ test: true }),
  });
  return res.json();
}

describe("e2e broken release: the preload against the real reference app", function () {
  this.timeout(20_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "e2e-preload-"));
    writeFileSync(path.join(dir, "broken-test-action.cjs"), PRELOAD);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("without it, the critical action succeeds (control)", async () => {
    const app = await startApp({});
    try {
      assert.deepEqual(await testAction(app.url), { success: true });
    } finally {
      app.stop();
    }
  });

  it("with it, /healthz and /api/version still answer and the critical action fails", async () => {
    const app = await startApp({
      NODE_OPTIONS: `--require=${path.join(dir, "broken-test-action.cjs")}`,
    });
    try {
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      const version = (await (await fetch(`${app.url}/api/version`)).json()) as { version: string };
      assert.equal(version.version, "1.2.3");
      assert.deepEqual(await testAction(app.url), { success: false, error: "e2e: broken release" });
    } finally {
      app.stop();
    }
  });

  it("is built on dev's own image, with the preload set by NODE_OPTIONS", () => {
    assert.equal(
      dockerfile("node:24-alpine"),
      "FROM node:24-alpine\nCOPY broken-test-action.cjs /opt/e2e/broken-test-action.cjs\nENV NODE_OPTIONS=--require=/opt/e2e/broken-test-action.cjs\n",
    );
  });

  it("E2E_BROKEN_RELEASE replaces it with config overrides", () => {
    assert.equal(brokenReleaseFromEnv(undefined), undefined);
    assert.deepEqual(
      brokenReleaseFromEnv('{"env-progression:image":"x:1","env-progression:replicas":2}'),
      {
        "env-progression:image": "x:1",
        "env-progression:replicas": "2",
      },
    );
    assert.throws(() => brokenReleaseFromEnv("[1]"), /JSON object/);
  });
});

describe("e2e hosts: where the smoke tests send their requests", () => {
  it("is smokeBaseUrl's host when a stack sets it, else the Ingress host", () => {
    assert.equal(
      smokeHost("config:\n  env-progression:host: dev.example.com\n"),
      "dev.example.com",
    );
    assert.equal(
      smokeHost(
        "config:\n  env-progression:host: dev.example.com\n  env-progression:smokeBaseUrl: http://127.0.0.1:8080\n",
      ),
      "127.0.0.1",
    );
    assert.equal(smokeHost("config: {}\n"), undefined);
  });

  it("counts 127.0.0.0/8 and ::1 as this machine", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1"]) assert.equal(isLoopback(a), true, a);
    for (const a of ["10.0.0.1", "93.184.215.14", "::"]) assert.equal(isLoopback(a), false, a);
  });
});

describe("e2e project copy", function () {
  this.timeout(60_000);
  let copy: ProjectCopy | undefined;
  afterEach(() => {
    if (copy) rmSync(copy.root, { recursive: true, force: true });
    copy = undefined;
  });

  it("copies the checkout without .git or local state, links node_modules, lists the secrets to set", () => {
    copy = copyProject();
    assert.ok(existsSync(path.join(copy.dir, "Pulumi.yaml")));
    assert.ok(existsSync(path.join(copy.dir, "tools", "promote.ts")));
    assert.equal(existsSync(path.join(copy.dir, ".git")), false);
    assert.equal(existsSync(path.join(copy.dir, ".pulumi")), false);
    assert.ok(lstatSync(path.join(copy.dir, "node_modules")).isSymbolicLink());
    assert.deepEqual(readdirSync(copy.state), []);
    for (const env of ["dev", "staging", "prod"] as const) {
      assert.ok(copy.secrets[env].includes("env-progression:dbPassword"), env);
    }
  });

  it("commits the copy, so releases carry a real commit and the tree is clean", function () {
    if (!findOnPath("git")) this.skip();
    copy = copyProject();
    commitCopy(copy.dir);
    const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: copy.dir,
      encoding: "utf8",
    });
    assert.equal(status.status, 0, status.stderr);
    assert.equal(status.stdout, "");
    const files = spawnSync("git", ["ls-files", "node_modules"], {
      cwd: copy.dir,
      encoding: "utf8",
    });
    assert.equal(files.stdout, "");
  });
});

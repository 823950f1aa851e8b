/**
 * tools/build/register.cjs, the runner of `npm run verify`: TypeScript run by plain node, each
 * file transpiled once and then read from the cache. Run as processes, as npm runs it: what it
 * resolves, that a second run loads no TypeScript at all, that a changed file is never served
 * stale, that a syntax error names the file and line, and that verify's report under it is the
 * one ts-node gives.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../model/paths";
import { npmScriptCommand } from "../../tools/build/npmScript";

const REGISTER = path.join(REPO_ROOT, "tools", "build", "register.cjs");
const node24 = path.join(REPO_ROOT, "node_modules", ".bin", "node");

function run(file: string, args: string[] = []) {
  return spawnSync(node24, ["-r", REGISTER, file, ...args], {
    cwd: path.dirname(file),
    encoding: "utf8",
  });
}

describe("tools/build/register.cjs (npm run verify's runner)", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "register-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs TypeScript with extensionless imports, transpiling once, never serving a stale file", () => {
    // A nonce makes the first run a miss whatever ran before.
    const nonce = `${process.pid}-${Date.now()}`;
    mkdirSync(path.join(dir, "parts"));
    writeFileSync(path.join(dir, "lib.ts"), `export const greeting: string = "hello ${nonce}";\n`);
    writeFileSync(
      path.join(dir, "parts", "index.ts"),
      `export interface Part { n: number }\nexport const part: Part = { n: 2 };\n`,
    );
    writeFileSync(
      path.join(dir, "main.ts"),
      [
        `import { greeting } from "./lib";`,
        `import { type Part, part } from "./parts";`,
        `const p: Part = part;`,
        `const tsLoaded = Object.keys(require.cache).some((k) => k.endsWith("/node_modules/typescript/lib/typescript.js"));`,
        `console.log(JSON.stringify({ greeting, n: p.n, main: require.main === module, tsLoaded }));`,
        ``,
      ].join("\n"),
    );
    const first = run(path.join(dir, "main.ts"));
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), {
      greeting: `hello ${nonce}`,
      n: 2,
      main: true,
      tsLoaded: true,
    });
    const second = run(path.join(dir, "main.ts"));
    assert.equal(second.status, 0, second.stderr);
    assert.equal(
      JSON.parse(second.stdout).tsLoaded,
      false,
      "a second run is served from the cache",
    );

    writeFileSync(
      path.join(dir, "lib.ts"),
      `export const greeting: string = "changed ${nonce}";\n`,
    );
    const third = run(path.join(dir, "main.ts"));
    assert.equal(third.status, 0, third.stderr);
    assert.equal(JSON.parse(third.stdout).greeting, `changed ${nonce}`);
  });

  it("names the file, line and column of a syntax error", () => {
    writeFileSync(path.join(dir, "bad.ts"), `const ok = 1;\nconst = ${Date.now()};\n`);
    const r = run(path.join(dir, "bad.ts"));
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      new RegExp(`${path.join(dir, "bad.ts").replace(/[.]/g, "\\.")}:2:\\d+: `),
    );
  });

  it("gives verify's report exactly as ts-node does (the stacks dev and staging)", () => {
    const args = ["--json", "--stack", "staging"];
    const [exe, ...pre] = npmScriptCommand(REPO_ROOT, "verify");
    assert.ok(pre.includes("./tools/build/register.cjs"), `npm run verify runs ${pre.join(" ")}`);
    const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
    const viaRegister = spawnSync(exe, [...pre, ...args], {
      cwd: REPO_ROOT,
      env,
      encoding: "utf8",
    });
    const viaTsNode = spawnSync(
      process.execPath,
      [
        path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"),
        "--transpile-only",
        "tools/verify.ts",
        ...args,
      ],
      { cwd: REPO_ROOT, env, encoding: "utf8" },
    );
    assert.equal(viaRegister.status, viaTsNode.status, viaRegister.stderr + viaTsNode.stderr);
    const report = (out: string) => {
      const r = JSON.parse(out) as Record<string, unknown>;
      delete r.durationMs;
      return r;
    };
    const a = report(viaRegister.stdout);
    assert.ok(Array.isArray(a.stacks) && a.stacks.length > 0, "a report of at least one stack");
    assert.deepEqual(a, report(viaTsNode.stdout));
  });
});

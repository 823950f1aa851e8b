/**
 * The pulumi-resource-command STAND-IN (tools/engine/plugins; README.md there): served over the
 * real ResourceProvider gRPC protocol exactly as the engine starts it, its declared shape checked
 * against the installed @pulumi/command SDK, and used by the real engine for a real `pulumi up`.
 */
import * as grpc from "@grpc/grpc-js";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import * as structPb from "google-protobuf/google/protobuf/struct_pb";
import * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import { REPO_ROOT as ROOT } from "../../model/paths";
import type * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import { EngineServer } from "../../tools/analyzer";

const PLUGINS = path.join(ROOT, "tools", "engine", "plugins");
const LAUNCHER = path.join(PLUGINS, "pulumi-resource-command");
/** Node 24 from the `node` devDependency, first on PATH as the engine's children need it. */
const NODE_BIN = path.join(ROOT, "node_modules", ".bin");
const SDK_VERSION: string = JSON.parse(
  fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "command", "package.json"), "utf8"),
).version;

const standIn = require(path.join(PLUGINS, "command-provider.js")) as {
  PROPERTIES: {
    inputs: readonly string[];
    requiredInputs: readonly string[];
    outputs: readonly string[];
    requiredOutputs: readonly string[];
    implemented: readonly string[];
  };
  RUN_TOKEN: string;
};
const { PROPERTIES } = standIn;

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  tmpDirs.push(d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// The plugin as the engine runs it: `pulumi-resource-command <engine address>` in the program's
// folder, its port the first line of stdout, then ResourceProvider calls.

interface Started {
  child: ChildProcess;
  client: providerGrpc.ResourceProviderClient;
  /** The first line of stderr, once it has arrived: stderr and stdout are separate pipes, so the
   * port on stdout can be read before a line written earlier to stderr. */
  firstStderrLine: Promise<string>;
  startupMs: number;
}

function startPlugin(cwd: string, engineAddress: string): Promise<Started> {
  const began = Date.now();
  const child = spawn(LAUNCHER, [engineAddress], {
    cwd,
    env: { ...process.env, PATH: `${NODE_BIN}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const firstStderrLine = new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      const nl = stderr.indexOf("\n");
      if (nl >= 0) resolve(stderr.slice(0, nl));
    });
    child.on("exit", (code, signal) =>
      reject(new Error(`the plugin exited (${code ?? signal}) before a line on stderr`)),
    );
  });
  firstStderrLine.catch(() => {}); // read by one test only; an exit is reported where it matters
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the plugin printed no port in 30s; stderr:\n${stderr}`));
    }, 30_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the plugin exited (${code ?? signal}) before printing its port; stderr:\n${stderr}`,
        ),
      );
    });
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const nl = stdout.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      const port = stdout.slice(0, nl).trim();
      assert.match(
        port,
        /^\d+$/,
        `the first line of stdout must be the port, got ${JSON.stringify(port)}`,
      );
      const client = new providerGrpc.ResourceProviderClient(
        `127.0.0.1:${port}`,
        grpc.credentials.createInsecure(),
      );
      resolve({
        child,
        client,
        firstStderrLine,
        startupMs: Date.now() - began,
      });
    });
  });
}

/** A unary call as a promise (the generated client's overloads defeat inference, hence `Res`). */
function call<Res>(
  start: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
): Promise<Res> {
  return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}

interface InvokeResult {
  outputs: Record<string, unknown>;
  failures: { property: string; reason: string }[];
}

describe("pulumi-resource-command stand-in (tools/engine/plugins)", function () {
  after(() => {
    for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("over the ResourceProvider gRPC protocol, started as the engine starts it", function () {
    const engine = new EngineServer();
    let plugin: Started;
    let cwd: string;

    before(async function () {
      cwd = tmpDir("cmd-standin-cwd-");
      plugin = await startPlugin(cwd, await engine.start());
    });
    after(async function () {
      plugin?.client.close();
      if (plugin && plugin.child.exitCode === null) {
        const exited = new Promise((r) => plugin.child.once("exit", r));
        plugin.child.kill("SIGTERM");
        await exited;
      }
      await engine.close();
    });

    async function invoke(tok: string, args: Record<string, unknown>): Promise<InvokeResult> {
      const req = new providerPb.InvokeRequest();
      req.setTok(tok);
      req.setArgs(structPb.Struct.fromJavaScript(args as Record<string, structPb.JavaScriptValue>));
      const res = await call<providerPb.InvokeResponse>((cb) => plugin.client.invoke(req, cb));
      return {
        outputs: (res.getReturn()?.toJavaScript() ?? {}) as Record<string, unknown>,
        failures: res
          .getFailuresList()
          .map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    }
    async function invokeError(
      tok: string,
      args: Record<string, unknown>,
    ): Promise<grpc.ServiceError> {
      try {
        await invoke(tok, args);
      } catch (e) {
        return e as grpc.ServiceError;
      }
      assert.fail(`invoke ${tok} ${JSON.stringify(args)} should have failed`);
    }
    const logsSince = (n: number) => engine.logs.slice(n).map((l) => l.message);

    it("says it is a stand-in when it starts, and reports the SDK's version", async function () {
      assert.match(await plugin.firstStderrLine, /stand-in.*serves only command:local:run/);
      const info = await call<pluginPb.PluginInfo>((cb) =>
        plugin.client.getPluginInfo(new emptyPb.Empty(), cb),
      );
      assert.equal(info.getVersion(), SDK_VERSION);
      console.log(`      (started and serving in ${plugin.startupMs} ms)`);
    });

    it("declares command:local:run in its schema with the stand-in's property lists", async function () {
      const res = await call<providerPb.GetSchemaResponse>((cb) =>
        plugin.client.getSchema(new providerPb.GetSchemaRequest(), cb),
      );
      const schema = JSON.parse(res.getSchema());
      assert.equal(schema.name, "command");
      assert.equal(schema.version, SDK_VERSION);
      assert.deepEqual(Object.keys(schema.functions), ["command:local:run"]);
      assert.deepEqual(Object.keys(schema.resources), []);
      const fn = schema.functions["command:local:run"];
      assert.deepEqual(Object.keys(fn.inputs.properties), [...PROPERTIES.inputs]);
      assert.deepEqual(Object.keys(fn.outputs.properties), [...PROPERTIES.outputs]);
      assert.deepEqual(fn.inputs.required, [...PROPERTIES.requiredInputs]);
      assert.deepEqual(fn.outputs.required, [...PROPERTIES.requiredOutputs]);
    });

    it("runs `echo hi`", async function () {
      const r = await invoke("command:local:run", { command: "echo hi" });
      assert.deepEqual(r, {
        outputs: { addPreviousOutputInEnv: true, command: "echo hi", stdout: "hi", stderr: "" },
        failures: [],
      });
    });

    it("runs in the plugin's working directory by default, logging its output to the engine", async function () {
      const n = engine.logs.length;
      const r = await invoke("command:local:run", { command: "echo hi; echo there >&2; pwd" });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.outputs, {
        addPreviousOutputInEnv: true,
        command: "echo hi; echo there >&2; pwd",
        stdout: `hi\n${cwd}`,
        stderr: "there",
      });
      assert.deepEqual(logsSince(n).sort(), ["hi", cwd, "there"].sort());
    });

    it("runs in `dir`, and echoes it", async function () {
      const dir = tmpDir("cmd-standin-dir-");
      const r = await invoke("command:local:run", { command: "pwd", dir });
      assert.deepEqual(r.outputs, {
        addPreviousOutputInEnv: true,
        command: "pwd",
        dir,
        stdout: dir,
        stderr: "",
      });
    });

    it("adds `environment` to the plugin's environment", async function () {
      const environment = { STANDIN_A: "one two", STANDIN_B: "" };
      const command = 'printf "%s|%s|%s" "$STANDIN_A" "${STANDIN_B-unset}" "${HOME:+home}"';
      const r = await invoke("command:local:run", { command, environment });
      assert.deepEqual(r.outputs, {
        addPreviousOutputInEnv: true,
        command,
        environment,
        stdout: "one two||home",
        stderr: "",
      });
    });

    it("feeds `stdin`, uses `interpreter`, and trims exactly one trailing newline", async function () {
      const a = await invoke("command:local:run", { command: "cat", stdin: "a\nb\n\n" });
      assert.equal(a.outputs.stdout, "a\nb\n");
      assert.equal(a.outputs.stdin, "a\nb\n\n");
      const interpreter = ["/bin/sh", "-c", 'printf "%s:" "$0"; printf "x\\r\\n"'];
      const b = await invoke("command:local:run", { command: "zero", interpreter });
      assert.deepEqual(b.outputs, {
        addPreviousOutputInEnv: true,
        command: "zero",
        interpreter,
        stdout: "zero:x\r",
        stderr: "",
      });
      const c = await invoke("command:local:run", { command: "true" });
      assert.deepEqual([c.outputs.stdout, c.outputs.stderr], ["", ""]);
    });

    it("with logging none, logs nothing and still returns the output", async function () {
      const n = engine.logs.length;
      const r = await invoke("command:local:run", {
        command: "echo quiet; echo quieter >&2",
        logging: "none",
      });
      assert.deepEqual(r.outputs, {
        addPreviousOutputInEnv: true,
        command: "echo quiet; echo quieter >&2",
        logging: "none",
        stdout: "quiet",
        stderr: "quieter",
      });
      assert.deepEqual(logsSince(n), []);
      const m = engine.logs.length;
      await invoke("command:local:run", { command: "echo o; echo e >&2", logging: "stderr" });
      assert.deepEqual(logsSince(m), ["e"]);
      const k = engine.logs.length;
      await invoke("command:local:run", { command: "echo o; echo e >&2", logging: "stdout" });
      assert.deepEqual(logsSince(k), ["o"]);
    });

    it("fails a non-zero exit with the exit code and the command's output", async function () {
      const e = await invokeError("command:local:run", { command: "echo oops >&2; exit 3" });
      assert.equal(e.code, grpc.status.UNKNOWN);
      assert.equal(e.details, 'exit status 3: running "echo oops >&2; exit 3":\noops\n');
      const both = await invokeError("command:local:run", {
        command: "echo out; sleep 0.2; echo err >&2; exit 7",
      });
      assert.equal(
        both.details,
        'exit status 7: running "echo out; sleep 0.2; echo err >&2; exit 7":\nout\nerr\n',
      );
      const sig = await invokeError("command:local:run", { command: "kill -TERM $$" });
      assert.equal(sig.details, 'signal: terminated: running "kill -TERM $$":\n');
      const dir = path.join(cwd, "missing");
      const nodir = await invokeError("command:local:run", { command: "true", dir });
      assert.equal(nodir.details, `chdir ${dir}: no such file or directory: running "true":\n`);
    });

    it("refuses any other function, and resource types, naming the token", async function () {
      const e = await invokeError("command:local:nope", { command: "echo hi" });
      assert.match(e.details, /function 'command:local:nope' is not served/);
      assert.match(e.details, /serves only the command:local:run invoke/);
      const check = new providerPb.CheckRequest();
      check.setUrn("urn:pulumi:t::p::command:local:Command::c");
      check.setOlds(structPb.Struct.fromJavaScript({}));
      check.setNews(structPb.Struct.fromJavaScript({ create: "echo hi" }));
      const refused = await call<providerPb.CheckResponse>((cb) =>
        plugin.client.check(check, cb),
      ).then(
        () => assert.fail("Check of command:local:Command should be refused"),
        (err: grpc.ServiceError) => err,
      );
      assert.match(refused.details, /resource type 'command:local:Command' is not served/);
      assert.match(refused.details, /serves only the command:local:run invoke/);
    });

    it("refuses non-empty assetPaths/archivePaths, and reports bad inputs as failures", async function () {
      const e = await invokeError("command:local:run", { command: "true", assetPaths: ["*"] });
      assert.match(e.details, /'assetPaths' is not supported by this stand-in/);
      const a = await invokeError("command:local:run", { command: "true", archivePaths: ["**"] });
      assert.match(a.details, /'archivePaths' is not supported by this stand-in/);
      const empty = await invoke("command:local:run", { command: "true", assetPaths: [] });
      assert.deepEqual(empty.outputs.assets, {});
      const bad = await invoke("command:local:run", { logging: "loud" });
      assert.deepEqual(
        bad.failures.map((f) => f.property),
        ["command", "logging"],
      );
      assert.deepEqual(bad.outputs, {});
    });
  });

  describe("its declared shape, against the installed @pulumi/command SDK", function () {
    /** The members of each `export interface X { ... }` of a .d.ts, `?` kept as optional. */
    function interfaces(dts: string): Map<string, { name: string; optional: boolean }[]> {
      const text = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      const out = new Map<string, { name: string; optional: boolean }[]>();
      const head = /export\s+(?:declare\s+)?interface\s+(\w+)\s*\{/g;
      let m: RegExpExecArray | null;
      while ((m = head.exec(text))) {
        const members: { name: string; optional: boolean }[] = [];
        let depth = 1;
        let i = head.lastIndex;
        let stmt = "";
        for (; i < text.length && depth > 0; i++) {
          const ch = text[i]!;
          if (ch === "{" || ch === "(" || ch === "<" || ch === "[") depth++;
          if (ch === "}" || ch === ")" || ch === ">" || ch === "]") depth--;
          if (depth === 0) break;
          if (depth === 1 && ch === ";") {
            const member = /^\s*(?:readonly\s+)?(\w+)(\?)?\s*:/.exec(stmt);
            if (member) members.push({ name: member[1]!, optional: member[2] === "?" });
            stmt = "";
          } else stmt += ch;
        }
        out.set(m[1]!, members);
      }
      return out;
    }
    const runDts = path.join(ROOT, "node_modules", "@pulumi", "command", "local", "run.d.ts");
    const declared = interfaces(fs.readFileSync(runDts, "utf8"));
    const names = (i: string) => {
      const members = declared.get(i);
      assert.ok(members, `${runDts} declares no interface ${i}`);
      return members.map((x) => x.name).sort();
    };
    const required = (i: string) =>
      declared
        .get(i)!
        .filter((x) => !x.optional)
        .map((x) => x.name)
        .sort();

    it("takes exactly the inputs RunArgs and RunOutputArgs declare", function () {
      assert.deepEqual(names("RunArgs"), [...PROPERTIES.inputs].sort());
      assert.deepEqual(names("RunOutputArgs"), [...PROPERTIES.inputs].sort());
      assert.deepEqual(required("RunArgs"), [...PROPERTIES.requiredInputs].sort());
    });

    it("returns exactly the fields RunResult declares", function () {
      assert.deepEqual(names("RunResult"), [...PROPERTIES.outputs].sort());
      assert.deepEqual(required("RunResult"), [...PROPERTIES.requiredOutputs].sort());
    });

    it("implements only inputs the SDK has, and the token the SDK invokes", function () {
      for (const p of PROPERTIES.implemented) assert.ok(PROPERTIES.inputs.includes(p), p);
      const runJs = fs.readFileSync(runDts.replace(/\.d\.ts$/, ".js"), "utf8");
      assert.match(runJs, /invoke(?:Output)?\("command:local:run"/);
      assert.equal(standIn.RUN_TOKEN, "command:local:run");
    });
  });

  describe("under the real engine (npm run engine:build)", function () {
    it("serves command.local.runOutput for `pulumi up` of a scratch TypeScript program", async function () {
      let bin: string;
      try {
        bin = execFileSync("npm", ["run", "--silent", "engine:bin"], {
          cwd: ROOT,
          encoding: "utf8",
        }).trim();
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        assert.fail(
          `the engine is not built, so the stand-in cannot be tried under it (run npm run engine:build): ` +
            `${(err.stderr ?? "").trim() || err.message}`,
        );
      }
      assert.ok(fs.existsSync(path.join(bin, "pulumi")), `no pulumi in ${bin}`);

      const base = tmpDir("cmd-standin-engine-");
      const project = path.join(base, "project");
      fs.mkdirSync(project);
      fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"), "dir");
      const shellCommand = "git --version || echo nogit";
      fs.writeFileSync(
        path.join(project, "Pulumi.yaml"),
        "name: command-stand-in\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n",
      );
      fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "command-stand-in", private: true, main: "index.ts" }, null, 2),
      );
      fs.writeFileSync(
        path.join(project, "index.ts"),
        [
          'import * as command from "@pulumi/command";',
          "",
          "const r = command.local.runOutput({",
          `  command: ${JSON.stringify(shellCommand)},`,
          "  dir: __dirname,",
          '  logging: "none",',
          "});",
          "export const stdout = r.stdout;",
          "export const dir = r.dir;",
          "",
        ].join("\n"),
      );
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        PATH: [NODE_BIN, bin, PLUGINS, process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_CONFIG_PASSPHRASE: "test",
        PULUMI_BACKEND_URL: `file://${base}`,
        PULUMI_HOME: path.join(base, "home"),
      };
      delete env.PULUMI_ACCESS_TOKEN;
      const pulumi = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; output: string }>((resolve, reject) => {
          const child = spawn(
            path.join(bin, "pulumi"),
            [...args, "--non-interactive", "--color", "never"],
            {
              cwd: project,
              env,
              stdio: ["ignore", "pipe", "pipe"],
            },
          );
          let stdout = "";
          let output = "";
          child.stdout.on("data", (c: Buffer) => {
            stdout += c.toString();
            output += c.toString();
          });
          child.stderr.on("data", (c: Buffer) => (output += c.toString()));
          child.on("error", reject);
          child.on("close", (code) => resolve({ code, stdout, output }));
        });

      const expected = execFileSync("/bin/sh", ["-c", shellCommand], {
        cwd: project,
        encoding: "utf8",
      }).replace(/\n$/, "");
      const init = await pulumi(["stack", "init", "t"]);
      assert.equal(init.code, 0, init.output);
      const began = Date.now();
      const up = await pulumi(["up", "--yes", "--stack", "t"]);
      const took = Date.now() - began;
      assert.equal(up.code, 0, up.output);
      // The engine took the plugin from PATH, i.e. this stand-in.
      assert.match(
        up.output,
        new RegExp(
          `pulumi-resource-command from \\$PATH at ${LAUNCHER.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`,
        ),
      );
      const out = await pulumi(["stack", "output", "--json", "--stack", "t"]);
      assert.equal(out.code, 0, out.output);
      assert.deepEqual(JSON.parse(out.stdout), { stdout: expected, dir: project });
      console.log(
        `      (pulumi up with the stand-in took ${(took / 1000).toFixed(1)} s; stack output ${JSON.stringify(expected)})`,
      );
      const destroy = await pulumi(["destroy", "--yes", "--stack", "t"]);
      assert.equal(destroy.code, 0, destroy.output);
    });
  });
});

"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose (see below) */
// STAND-IN for the `command` resource plugin (github.com/pulumi/pulumi-command), NOT the real one.
//
// The program reads the git commit through `command.local.runOutput(...)` (components/release.ts),
// an invoke of `command:local:run`. Under the engine that npm run engine:build makes, that invoke
// needs a `pulumi-resource-command` plugin, and the real provider cannot be had here: it is not on
// the Go module proxy and no binary downloads are possible. This file serves that one invoke over
// the real ResourceProvider gRPC protocol (@pulumi/pulumi/provider's `main`), started by the
// launcher `pulumi-resource-command` next to it. See README.md in this folder.
//
// It implements ONLY the `command:local:run` invoke, with the semantics of pulumi-command 1.2.1
// (provider/pkg/provider/local: BaseInputs, run(), Run.Call):
//   - the command runs as `<interpreter...> <command>`, interpreter defaulting to ["/bin/sh", "-c"];
//   - in `dir`, else the plugin's working directory (the engine starts plugins in the program's
//     folder); with the plugin's environment plus `environment`; `stdin` fed when non-empty;
//   - stdout and stderr are returned with ONE trailing "\n" removed (strings.TrimSuffix(s, "\n"));
//   - `logging` (default: both) sends the output's lines to the engine as ephemeral info logs;
//   - a failure is the error `<exit status N | signal: S | start error>: running "<command>":\n<the
//     command's stdout and stderr, interleaved as they came>`, as the real provider words it;
//   - the result echoes the inputs given (addPreviousOutputInEnv defaulted to true, as the real
//     provider's inferred schema does) plus stdout and stderr.
// It refuses, with an error naming the token, every other function, method and resource type, and
// non-empty `assetPaths`/`archivePaths` (globbing into assets is not implemented).
//
// Plain CommonJS, no ts-node: the engine starts it for every update and preview.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const { createRequire } = require("node:module");
const path = require("node:path");

/** The repository root: this file is tools/engine/plugins/command-provider.js. */
const ROOT = path.resolve(__dirname, "..", "..", "..");
/** Resolves packages from the project's node_modules, whatever the working directory is. */
const projectRequire = createRequire(path.join(ROOT, "package.json"));

const RUN_TOKEN = "command:local:run";
const STAND_IN = "pulumi-resource-command stand-in (tools/engine/plugins)";

/**
 * The property names of `command:local:run` this stand-in declares, as the published schema
 * (provider/cmd/pulumi-resource-command/schema.json) and the npm SDK (local/run.d.ts RunArgs,
 * RunResult) name them. test/engine/commandProvider.test.ts compares these with the installed SDK.
 * `implemented` are the inputs that take effect; assetPaths/archivePaths are accepted only empty,
 * addPreviousOutputInEnv is accepted and echoed (an invoke has no previous output to inject).
 */
const PROPERTIES = Object.freeze({
  inputs: Object.freeze([
    "addPreviousOutputInEnv",
    "archivePaths",
    "assetPaths",
    "command",
    "dir",
    "environment",
    "interpreter",
    "logging",
    "stdin",
  ]),
  requiredInputs: Object.freeze(["command"]),
  outputs: Object.freeze([
    "addPreviousOutputInEnv",
    "archive",
    "archivePaths",
    "assetPaths",
    "assets",
    "command",
    "dir",
    "environment",
    "interpreter",
    "logging",
    "stderr",
    "stdin",
    "stdout",
  ]),
  requiredOutputs: Object.freeze(["command", "stderr", "stdout"]),
  implemented: Object.freeze(["command", "dir", "environment", "interpreter", "stdin", "logging"]),
});

const LOGGING = Object.freeze(["stdout", "stderr", "stdoutAndStderr", "none"]);
const DEFAULT_INTERPRETER = Object.freeze(["/bin/sh", "-c"]);

// The wire sentinels of the Pulumi property protocol (sdk/go/common/resource/sig).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The version the SDK asks the engine for: that of the installed @pulumi/command. */
function sdkVersion() {
  return projectRequire("@pulumi/command/package.json").version;
}

/** An error reported to the engine as it is, without the SDK server's stack dump on stderr. */
const QUIET = "[reported to the engine by the pulumi-resource-command stand-in]";
function failure(message) {
  const e = new Error(message);
  e.stack = QUIET;
  return e;
}

function refuse(what, token) {
  return failure(
    `${STAND_IN}: ${what} '${token}' is not served: this stand-in serves only the ` +
      `${RUN_TOKEN} invoke (the real pulumi-command provider is not available on this machine)`,
  );
}

/** The resource type of a URN (urn:pulumi:stack::project::[parent$]type::name). */
function urnType(urn) {
  const parts = String(urn).split("::");
  return parts.length >= 3 ? parts[2].split("$").pop() : String(urn);
}

/** Secrets as plain values (the SDK marks the result secret itself); unknowns are refused. */
function plain(v, where) {
  if (v === UNKNOWN) throw failure(`${STAND_IN}: ${RUN_TOKEN}: input '${where}' is unknown`);
  if (Array.isArray(v)) return v.map((x, i) => plain(x, `${where}[${i}]`));
  if (v && typeof v === "object") {
    if (v[SIG_KEY] === SECRET_SIG) return plain(v.value, where);
    if (SIG_KEY in v)
      throw failure(
        `${STAND_IN}: ${RUN_TOKEN}: input '${where}' is an asset, archive or reference`,
      );
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x, where ? `${where}.${k}` : k);
    return o;
  }
  return v;
}

/** Type checks as the real provider's decoder makes them: failures, not errors. */
function checkInputs(inputs) {
  const failures = [];
  const bad = (property, reason) => failures.push({ property, reason });
  const isStrings = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");
  for (const k of Object.keys(inputs)) {
    if (!PROPERTIES.inputs.includes(k)) bad(k, `unknown property '${k}' of ${RUN_TOKEN}`);
  }
  if (inputs.command === undefined || inputs.command === null)
    bad("command", "Missing required field 'command' on 'local.RunInputs'");
  else if (typeof inputs.command !== "string") bad("command", "expected a string");
  const opt = (k, ok, what) => {
    if (inputs[k] !== undefined && inputs[k] !== null && !ok(inputs[k])) bad(k, `expected ${what}`);
  };
  opt("dir", (v) => typeof v === "string", "a string");
  opt("stdin", (v) => typeof v === "string", "a string");
  opt("addPreviousOutputInEnv", (v) => typeof v === "boolean", "a boolean");
  opt("interpreter", isStrings, "a list of strings");
  opt("assetPaths", isStrings, "a list of strings");
  opt("archivePaths", isStrings, "a list of strings");
  opt(
    "environment",
    (v) =>
      typeof v === "object" &&
      !Array.isArray(v) &&
      Object.values(v).every((s) => typeof s === "string"),
    "a map of strings",
  );
  opt(
    "logging",
    (v) => LOGGING.includes(v),
    `one of ${LOGGING.map((l) => JSON.stringify(l)).join(", ")}`,
  );
  return failures;
}

// ---------------------------------------------------------------------------------------------
// Logging to the engine: the real provider sends each line of the output it is told to log as an
// ephemeral info message (pulumi-go-provider ctx.LogStatus -> Engine.Log, ephemeral).

let engineClient;
function engine() {
  if (engineClient !== undefined) return engineClient;
  engineClient = null;
  const address = engineAddress();
  if (!address) return null;
  const pulumiRequire = createRequire(projectRequire.resolve("@pulumi/pulumi/provider"));
  const grpc = pulumiRequire("@grpc/grpc-js");
  const engineGrpc = pulumiRequire("../proto/engine_grpc_pb");
  const enginePb = pulumiRequire("../proto/engine_pb");
  engineClient = {
    client: new engineGrpc.EngineClient(address, grpc.credentials.createInsecure()),
    enginePb,
    metadata: () => new grpc.Metadata(),
  };
  return engineClient;
}

let parsedEngineAddress;
function engineAddress() {
  if (parsedEngineAddress === undefined) {
    const internals = projectRequire("@pulumi/pulumi/provider/internals");
    parsedEngineAddress = internals.parseArgs(process.argv.slice(2))?.engineAddress ?? "";
  }
  return parsedEngineAddress;
}

function logStatus(message) {
  // Logging is best effort, as in the real provider: a lost line never fails the command.
  return new Promise((resolve) => {
    try {
      const e = engine();
      if (!e) return resolve();
      const req = new e.enginePb.LogRequest();
      req.setSeverity(e.enginePb.LogSeverity.INFO);
      req.setMessage(message);
      req.setUrn("");
      req.setStreamid(0);
      req.setEphemeral(true);
      e.client.log(req, e.metadata(), { deadline: Date.now() + 10_000 }, () => resolve());
    } catch {
      resolve();
    }
  });
}

/** Splits what is logged into lines as Go's bufio.ScanLines does (dropping a trailing "\r"). */
function lineLogger() {
  let pending = "";
  // One line after the other, in order, as the real provider's single logging goroutine sends them.
  let sent = Promise.resolve();
  const emit = (line) => {
    const message = line.endsWith("\r") ? line.slice(0, -1) : line;
    sent = sent.then(() => logStatus(message));
  };
  return {
    write(chunk) {
      pending += chunk;
      let i;
      while ((i = pending.indexOf("\n")) >= 0) {
        emit(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
    },
    async close() {
      if (pending !== "") emit(pending);
      pending = "";
      await sent;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The command, as provider/pkg/provider/local run() runs it.

const GO_SIGNALS = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
};

/** Why the command could not start, worded as Go's os/exec words it. */
function startError(file, dir, err) {
  try {
    if (!fs.statSync(dir).isDirectory()) return `chdir ${dir}: not a directory`;
  } catch (e) {
    return `chdir ${dir}: ${e.code === "ENOENT" ? "no such file or directory" : e.message}`;
  }
  if (err.code === "ENOENT") {
    return file.includes("/")
      ? `fork/exec ${file}: no such file or directory`
      : `exec: ${JSON.stringify(file)}: executable file not found in $PATH`;
  }
  if (err.code === "EACCES") return `fork/exec ${file}: permission denied`;
  return `fork/exec ${file}: ${err.message}`;
}

function run(inputs) {
  const { command } = inputs;
  const interpreter =
    inputs.interpreter && inputs.interpreter.length > 0 ? inputs.interpreter : DEFAULT_INTERPRETER;
  const dir = inputs.dir ?? process.cwd();
  const env = { ...process.env, ...(inputs.environment ?? {}) };
  const logging = inputs.logging;
  const logStdout = logging === undefined || logging === "stdout" || logging === "stdoutAndStderr";
  const logStderr = logging === undefined || logging === "stderr" || logging === "stdoutAndStderr";
  const useStdin = typeof inputs.stdin === "string" && inputs.stdin.length > 0;
  const fail = (why, output) => failure(`${why}: running ${JSON.stringify(command)}:\n${output}`);

  return new Promise((resolve, reject) => {
    const [file, ...args] = interpreter;
    let stdout = "";
    let stderr = "";
    let both = ""; // only for the error message, as the real provider keeps it
    const log = lineLogger();
    let child;
    try {
      child = spawn(file, [...args, command], {
        cwd: dir,
        env,
        stdio: [useStdin ? "pipe" : "ignore", "pipe", "pipe"],
      });
    } catch (e) {
      reject(fail(startError(file, dir, e), ""));
      return;
    }
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (s) => {
      stdout += s;
      both += s;
      if (logStdout) log.write(s);
    });
    child.stderr.on("data", (s) => {
      stderr += s;
      both += s;
      if (logStderr) log.write(s);
    });
    if (useStdin) {
      child.stdin.on("error", () => {}); // a command that does not read its stdin is no error
      child.stdin.end(inputs.stdin);
    }
    let spawnError;
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("close", async (code, signal) => {
      await log.close();
      if (spawnError) reject(fail(startError(file, dir, spawnError), both));
      else if (signal) reject(fail(`signal: ${GO_SIGNALS[signal] ?? signal}`, both));
      else if (code !== 0) reject(fail(`exit status ${code}`, both));
      else resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
    });
  });
}

/** The `command:local:run` invoke: the result is the inputs given, defaulted, plus the output. */
async function invokeRun(rawInputs) {
  const inputs = plain(rawInputs ?? {}, "");
  for (const k of Object.keys(inputs)) if (inputs[k] === null) delete inputs[k];
  const failures = checkInputs(inputs);
  if (failures.length > 0) return { failures };
  for (const k of ["assetPaths", "archivePaths"]) {
    if (inputs[k] && inputs[k].length > 0) {
      throw failure(
        `${STAND_IN}: ${RUN_TOKEN}: '${k}' is not supported by this stand-in (it returns no assets ` +
          `or archives); got ${JSON.stringify(inputs[k])}`,
      );
    }
  }
  const { stdout, stderr } = await run(inputs);
  const outputs = { addPreviousOutputInEnv: true, ...inputs, stdout, stderr };
  if (inputs.assetPaths) outputs.assets = {};
  return { outputs };
}

/** The schema of what this stand-in serves: `command:local:run`, as the published schema has it. */
function schema() {
  const strings = { type: "array", items: { type: "string" } };
  const inputs = {
    addPreviousOutputInEnv: { type: "boolean", default: true },
    archivePaths: strings,
    assetPaths: strings,
    command: { type: "string" },
    dir: { type: "string" },
    environment: { type: "object", additionalProperties: { type: "string" } },
    interpreter: strings,
    logging: { $ref: "#/types/command:local:Logging" },
    stdin: { type: "string" },
  };
  const outputs = {
    ...inputs,
    archive: { $ref: "pulumi.json#/Archive" },
    assets: { type: "object", additionalProperties: { $ref: "pulumi.json#/Asset" } },
    stderr: { type: "string" },
    stdout: { type: "string" },
  };
  const sorted = (o) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  return {
    name: "command",
    version: sdkVersion(),
    description: `STAND-IN for the Pulumi Command provider: serves only ${RUN_TOKEN} (see tools/engine/plugins/README.md).`,
    config: {},
    provider: { type: "object" },
    types: {
      "command:local:Logging": { type: "string", enum: LOGGING.map((value) => ({ value })) },
    },
    resources: {},
    functions: {
      [RUN_TOKEN]: {
        description: "A local command to be executed unconditionally (stand-in).",
        inputs: {
          type: "object",
          properties: sorted(inputs),
          required: [...PROPERTIES.requiredInputs],
        },
        outputs: {
          type: "object",
          properties: sorted(outputs),
          required: [...PROPERTIES.requiredOutputs],
        },
      },
    },
  };
}

function provider() {
  const resourceRefusal = (urn) => Promise.reject(refuse("resource type", urnType(urn)));
  return {
    version: sdkVersion(),
    getSchema: async () => JSON.stringify(schema()),
    invoke: async (token, inputs) => {
      if (token !== RUN_TOKEN) throw refuse("function", token);
      return invokeRun(inputs);
    },
    call: async (token) => {
      throw refuse("method", token);
    },
    construct: async (_name, type) => {
      throw refuse("resource type", type);
    },
    check: (urn) => resourceRefusal(urn),
    diff: (_id, urn) => resourceRefusal(urn),
    create: (urn) => resourceRefusal(urn),
    read: (_id, urn) => resourceRefusal(urn),
    update: (_id, urn) => resourceRefusal(urn),
    delete: (_id, urn) => resourceRefusal(urn),
  };
}

async function serve(args) {
  // The SDK's server prints "<error>: <stack>" for failed invokes to stderr; ours are reported to
  // the engine already, so that echo is dropped (other output passes).
  const consoleError = console.error.bind(console);
  console.error = (...a) => {
    if (typeof a[0] === "string" && a[0].endsWith(QUIET)) return;
    consoleError(...a);
  };
  const { main } = projectRequire("@pulumi/pulumi/provider");
  await main(provider(), args); // prints the port as the first line of stdout
  process.stderr.write(
    `${STAND_IN} ${sdkVersion()}: serves only ${RUN_TOKEN}; not the real pulumi-command provider\n`,
  );
}

module.exports = { PROPERTIES, RUN_TOKEN, STAND_IN, schema, invokeRun, provider };

if (require.main === module) {
  serve(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${STAND_IN}: could not start: ${(e && e.stack) || e}\n`);
    process.exit(1);
  });
}

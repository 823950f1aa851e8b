"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, as command-provider.js */
// How the pulumi-resource-command STAND-IN (command-provider.js) runs the command of a
// `command:local:run` invoke, as pulumi-command 1.2.1's provider/pkg/provider/local run() does:
// the process, the output lines it logs to the engine, and the error a failure is worded as.
// See README.md in this folder.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const { createRequire } = require("node:module");
const { projectRequire } = require("./command-schema.js");

const DEFAULT_INTERPRETER = Object.freeze(["/bin/sh", "-c"]);

/** An error reported to the engine as it is, without the SDK server's stack dump on stderr. */
const QUIET = "[reported to the engine by the pulumi-resource-command stand-in]";
function failure(message) {
  const e = new Error(message);
  e.stack = QUIET;
  return e;
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

module.exports = { QUIET, failure, run };

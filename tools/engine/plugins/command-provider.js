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
//
// Its files, one question each: command-schema.js (what it declares: token, properties, version,
// schema), command-run.js (how the command runs, logs and fails), and this one (what it serves and
// refuses, how it checks the inputs, and the plugin's entry point).

const {
  projectRequire,
  RUN_TOKEN,
  STAND_IN,
  PROPERTIES,
  LOGGING,
  sdkVersion,
  schema,
} = require("./command-schema.js");
const { QUIET, failure, run } = require("./command-run.js");

// The wire sentinels of the Pulumi property protocol, the SDK's own (sdk/go/common/resource/sig).
const { specialSigKey, specialSecretSig, unknownValue } = projectRequire(
  "@pulumi/pulumi/runtime/rpc",
);

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
  if (v === unknownValue) throw failure(`${STAND_IN}: ${RUN_TOKEN}: input '${where}' is unknown`);
  if (Array.isArray(v)) return v.map((x, i) => plain(x, `${where}[${i}]`));
  if (v && typeof v === "object") {
    if (v[specialSigKey] === specialSecretSig) return plain(v.value, where);
    if (specialSigKey in v)
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
  // Said before the port is printed, so it is in the pipe before anyone can call the plugin.
  process.stderr.write(
    `${STAND_IN} ${sdkVersion()}: serves only ${RUN_TOKEN}; not the real pulumi-command provider\n`,
  );
  await main(provider(), args); // prints the port as the first line of stdout
}

module.exports = { PROPERTIES, RUN_TOKEN, STAND_IN, schema, invokeRun, provider };

if (require.main === module) {
  serve(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${STAND_IN}: could not start: ${(e && e.stack) || e}\n`);
    process.exit(1);
  });
}

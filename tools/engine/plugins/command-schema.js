"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, as command-provider.js */
// What the pulumi-resource-command STAND-IN (command-provider.js) declares: its name, the one token
// it serves, that token's properties, the version it reports and the schema it answers GetSchema
// with. See README.md in this folder.

const { createRequire } = require("node:module");
const path = require("node:path");

/** The repository root: this file is tools/engine/plugins/command-schema.js. */
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

/** The version the SDK asks the engine for: that of the installed @pulumi/command. */
function sdkVersion() {
  return projectRequire("@pulumi/command/package.json").version;
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

module.exports = { projectRequire, RUN_TOKEN, STAND_IN, PROPERTIES, LOGGING, sdkVersion, schema };

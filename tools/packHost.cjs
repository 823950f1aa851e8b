// A host for the policy pack that skips TypeScript's type check: `npm run verify` starts the pack
// with it (PolicyPackProcess.start with `typeCheck: false`), as
// `node tools/packHost.cjs <engine-address> <program>` in the pack's directory.
//
// The engine starts a pack with @pulumi/pulumi's `cmd/run-policy-pack`, which registers ts-node
// with `typeCheck: true` and offers no way to turn that off. The type check costs about 2.5 s of
// CPU at every start, more than everything else verify does before the pack answers. `npm test`
// type-checks the pack (tsc over policies/), and `pulumi preview --policy-pack policies` does it
// again, so verify does not pay for it a third time.
//
// This is run-policy-pack's own registration (the same ts-node and TypeScript, the same compiler
// options, tsconfig.json from the pack's directory when it has one) with `transpileOnly` in place
// of `typeCheck`, and then its own `run`: the pack is loaded, serves and reports its errors as it
// does under the engine. Plain CommonJS, because no TypeScript loader exists yet when it starts.
// The runtime options of PulumiPolicy.yaml (`-key=value`) are ignored; `run` reads none of them.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [engineAddress, program, ...rest] = process.argv.slice(2);
if (engineAddress === undefined || program === undefined) {
  process.stderr.write("usage: node tools/packHost.cjs <engine-address> <program>\n");
  process.exit(2);
}

const sdk = path.dirname(
  require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }),
);
const tsutils = require(path.join(sdk, "tsutils"));
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const tsConfigPath = "tsconfig.json";
require(tsnodeRequire).register({
  transpileOnly: true,
  skipProject: !fs.existsSync(tsConfigPath),
  compiler: typescriptRequire,
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...tsutils.loadTypeScriptCompilerOptions(tsConfigPath),
  },
});

// As run-policy-pack's entry: an error the program did not handle makes a non-zero exit, 32 when
// `run` already reported it to the user ("exited after logging a user-actionable message").
const uncaught = new Set();
const logged = new Set();
process.on("uncaughtException", (err) => uncaught.add(err));
process.on("unhandledRejection", (err) => uncaught.add(err));
process.on("exit", (code) => {
  if (code === 0 && uncaught.size > 0)
    process.exitCode = [...uncaught].every((err) => logged.has(err)) ? 32 : 1;
});

require(path.join(sdk, "cmd", "run-policy-pack", "run")).run({
  argv: { _: [program, ...rest.filter((a) => !a.startsWith("-"))] },
  programStarted: () => undefined,
  reportLoggedError: (err) => logged.add(err),
  typeScript: false,
});

// A host for the policy pack that loads it prebuilt, as JavaScript: `npm run verify` and the
// benchmarks start the pack with it (PolicyPackProcess.start with `typeCheck: false`), as
// `node tools/packHost.cjs --built=<built pack dir> <engine-address> <program>` in the pack's
// directory.
//
// The engine starts a pack with @pulumi/pulumi's `cmd/run-policy-pack`, which registers ts-node
// with `typeCheck: true` and offers no way to turn that off: TypeScript type-checks and compiles
// the pack at every start (2.8 s until it answers, about 390 MiB idle). `npm test` type-checks the
// pack (tsc over policies/), and `pulumi preview --policy-pack policies` does it again, so verify
// does not pay for it a third time, nor for compiling: tools/build/pack.ts has transpiled the
// sources (run-policy-pack's compiler options, ts-node's transpile-only emit) into a cache keyed
// by their hash, and this host loads that build with no TypeScript in the process.
//
// What runs it is run-policy-pack's own `run` (with `typeScript: false`, as for a JavaScript
// pack): the pack is loaded, serves and reports its errors as it does under the engine. Plain
// CommonJS, because it loads no TypeScript at all. The runtime options of PulumiPolicy.yaml
// (`-key=value`) are ignored; `run` reads none of them.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { enableCodeCache } = require("./build/cache.cjs");

const [builtArg, engineAddress, program, ...rest] = process.argv.slice(2);
const built = builtArg?.startsWith("--built=") ? builtArg.slice("--built=".length) : undefined;
if (built === undefined || engineAddress === undefined || program === undefined) {
  process.stderr.write(
    "usage: node tools/packHost.cjs --built=<built pack dir> <engine-address> <program>\n",
  );
  process.exit(2);
}
if (
  !fs.existsSync(path.join(built, "package.json")) &&
  !fs.existsSync(path.join(built, "index.js"))
) {
  process.stderr.write(`packHost: ${built} is not a built pack (tools/build/pack.ts makes one)\n`);
  process.exit(2);
}

// V8's code cache (tools/build/cache.cjs): the SDK and @pulumi/policy load in half the time.
enableCodeCache();

const sdk = path.dirname(
  require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }),
);

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

// `program` is the pack directory the engine would name ("."); the built copy of it stands in.
require(path.join(sdk, "cmd", "run-policy-pack", "run")).run({
  argv: { _: [path.resolve(built), ...rest.filter((a) => !a.startsWith("-"))] },
  programStarted: () => undefined,
  reportLoggedError: (err) => logged.add(err),
  typeScript: false,
});

// Preloaded (`node --import`) into the smoke CLI by test/smoke/cli.test.ts: records each specifier
// by which code outside undici reached one of undici's files, so that the test can tell the
// package's entry point ("undici") from a path into its internals ("undici/lib/...").
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const UNDICI = "/node_modules/undici/";
const seen = [];

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (resolved.url.includes(UNDICI) && !(context.parentURL ?? "").includes(UNDICI))
      seen.push(specifier);
    return resolved;
  },
});

process.on("exit", () => {
  writeFileSync(process.env.SMOKE_RESOLVE_LOG, JSON.stringify(seen));
});

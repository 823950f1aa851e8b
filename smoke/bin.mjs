// Starts the smoke CLI: `node smoke/bin.mjs <baseUrl> [options]`, which is what
// `npm run smoke -- <baseUrl> [options]` runs. The CLI is smoke/'s TypeScript, without a compile
// step (smoke/hooks.mjs). undici is its package's public entry point, loaded only when a run needs
// it (not for --help or a usage error).
import { createRequire } from "node:module";
import { registerSmokeHooks } from "./hooks.mjs";

registerSmokeHooks();
const require = createRequire(import.meta.url);
const { main, processIo } = await import("./cli.ts");
process.exitCode = await main(
  process.argv.slice(2),
  processIo(() => require("undici")),
);

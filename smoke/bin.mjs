// Starts the smoke CLI: `node --liftoff-only smoke/bin.mjs <baseUrl> [options]`, which is what
// `npm run smoke -- <baseUrl> [options]` runs. The CLI is smoke/'s TypeScript, without a compile
// step (smoke/hooks.mjs), with only the part of undici it uses (smoke/undici.ts).
import { createRequire } from "node:module";
import { registerSmokeHooks } from "./hooks.mjs";

registerSmokeHooks();
const require = createRequire(import.meta.url);
const { main, processIo } = await import("./cli.ts");
const { loadUndici } = await import("./undici.ts");
process.exitCode = await main(
  process.argv.slice(2),
  processIo(() => loadUndici(require).api),
);

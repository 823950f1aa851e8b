// The smoke CLI started in ways it is not shipped, to measure what each choice costs (bench/smoke.ts):
//   node bench/smokeVariant.mjs native-strip <args>   Node strips the types on every start
//   node bench/smokeVariant.mjs full-undici <args>    loads all of undici (import "undici")
import { createRequire } from "node:module";
import { registerSmokeHooks } from "../smoke/hooks.mjs";

const [variant, ...args] = process.argv.slice(2);
registerSmokeHooks({ cache: variant !== "native-strip" });
const { main, processIo } = await import("../smoke/cli.ts");
const { loadUndici } = await import("../smoke/undici.ts");
const undici =
  variant === "full-undici"
    ? await import("undici")
    : loadUndici(createRequire(import.meta.url)).api;
process.exitCode = await main(
  args,
  processIo(() => undici),
);

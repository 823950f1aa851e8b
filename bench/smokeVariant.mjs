// The smoke CLI started in a way it is not shipped, to measure what the choice costs (bench/smoke.ts):
//   node bench/smokeVariant.mjs native-strip <args>   Node strips the types on every start
import { createRequire } from "node:module";
import { registerSmokeHooks } from "../smoke/hooks.mjs";

const [variant, ...args] = process.argv.slice(2);
if (variant !== "native-strip") {
  process.stderr.write(
    `bench/smokeVariant.mjs: unknown variant ${variant}, expected native-strip\n`,
  );
  process.exit(2);
}
registerSmokeHooks({ cache: false });
const require = createRequire(import.meta.url);
const { main, processIo } = await import("../smoke/cli.ts");
process.exitCode = await main(
  args,
  processIo(() => require("undici")),
);

// The smoke CLI under ts-node's transpile-only mode (bench/smoke.ts measures its start-up):
//   node -r ts-node/register/transpile-only bench/smokeTsNode.ts <args>
import { main, processIo } from "../smoke/cli";

void main(
  process.argv.slice(2),
  processIo(() => require("undici") as typeof import("undici")),
).then((code) => {
  process.exitCode = code;
});

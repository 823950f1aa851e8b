// The smoke CLI under ts-node's transpile-only mode (bench/smoke.ts measures its start-up):
//   node -r ts-node/register/transpile-only bench/smokeTsNode.ts <args>
import { main, processIo } from "../smoke/cli";
import { loadUndici } from "../smoke/undici";

void main(
  process.argv.slice(2),
  processIo(() => loadUndici(require).api),
).then((code) => {
  process.exitCode = code;
});

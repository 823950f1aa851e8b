// The floor for an undici client: the contract's four requests at once, no checks of the answers
// beyond a 200, nothing else (bench/smoke.ts). `node bench/smokeMinimal.mjs <baseUrl>`
import { Agent } from "undici";

const base = process.argv[2];
const agent = new Agent();
const requests = [
  ["GET", "/healthz"],
  ["GET", "/api/version"],
  ["GET", "/api/db-status"],
  ["POST", "/api/test-action", '{"test": true}'],
];
const statuses = await Promise.all(
  requests.map(async ([method, path, body]) => {
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    const res = await agent.request({ origin: base, path, method, body, headers });
    await res.body.text();
    return res.statusCode;
  }),
);
await agent.close();
process.exitCode = statuses.every((s) => s === 200) ? 0 : 1;

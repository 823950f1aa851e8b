/**
 * The targets the smoke benchmark measures against, in a process of their own so that their work
 * does not delay the benchmark's clock: the reference app (app/server.js) with a stand-in for
 * PostgreSQL, the same app behind TLS and a proxy that delays every chunk by DELAY_MS each way,
 * and a server that accepts connections and never answers. Everything listens on 127.0.0.1 only.
 *
 * Run by bench/smoke.ts (`node -r ts-node/register/transpile-only bench/smokeTargets.ts <certDir>
 * <delayMs>`);
 * prints one JSON line with the ports, and ends when its stdin closes.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { REPO_ROOT as ROOT } from "../model/paths";

const [certDir = "", delayArg = "20"] = process.argv.slice(2);
const DELAY_MS = Number(delayArg);
const HOST = "127.0.0.1";

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Answers PostgreSQL's SSLRequest with "N" (no TLS), which is all /api/db-status asks. */
async function fakePostgres(): Promise<number> {
  return listen(
    net.createServer((s) => s.once("data", () => s.end("N")).on("error", () => s.destroy())),
  );
}

async function startApp(dbPort: number): Promise<number> {
  const app = spawn(process.execPath, [path.join(ROOT, "app", "server.js")], {
    env: {
      ...process.env,
      PORT: "0",
      APP_VERSION: "1.4.0",
      RELEASE_COMMIT: "bench",
      APP_ENV: "dev",
      DB_HOST: HOST,
      DB_PORT: String(dbPort),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.on("exit", () => app.kill());
  return new Promise((resolve, reject) => {
    let head = "";
    let started = false;
    app.once("exit", (code) => reject(new Error(`app/server.js exited with ${code}`)));
    // Its request log is read and dropped: a full pipe would stall it.
    app.stdout.on("data", (chunk: Buffer) => {
      if (started) return;
      head += chunk.toString();
      const line = head.split("\n").find((l) => l.includes('"listening"'));
      if (line === undefined) return;
      started = true;
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
}

/** Pipes two sockets, destroying both when either side fails or closes. */
function join(a: net.Socket, b: net.Socket, delayMs: number): void {
  // Without this, Nagle's algorithm holds small writes for an ACK and adds its own delay.
  a.setNoDelay(true);
  b.setNoDelay(true);
  const forward = (from: net.Socket, to: net.Socket): void => {
    from.on("data", (chunk: Buffer) => {
      // Timers of one duration fire in the order they were set: the byte order is kept.
      if (delayMs > 0) setTimeout(() => to.destroyed || to.write(chunk), delayMs);
      else to.write(chunk);
    });
    from.on("end", () => (delayMs > 0 ? setTimeout(() => to.end(), delayMs) : to.end()));
  };
  forward(a, b);
  forward(b, a);
  const kill = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on("error", kill).on("close", () => setTimeout(kill, delayMs));
  b.on("error", kill).on("close", () => setTimeout(kill, delayMs));
}

/** TLS in front of the app, like an Ingress controller terminating TLS. */
async function tlsTerminator(appPort: number): Promise<number> {
  const server = tls.createServer(
    {
      key: readFileSync(path.join(certDir, "server.key")),
      cert: readFileSync(path.join(certDir, "server.pem")),
    },
    (socket) => join(socket, net.connect(appPort, HOST), 0),
  );
  server.on("tlsClientError", () => {});
  return listen(server);
}

/** Delays every chunk by DELAY_MS in each direction: a network path with 2 x DELAY_MS of RTT. */
async function latencyProxy(targetPort: number): Promise<number> {
  return listen(
    net.createServer((client) => join(client, net.connect(targetPort, HOST), DELAY_MS)),
  );
}

async function silent(): Promise<number> {
  const sockets = new Set<net.Socket>();
  return listen(
    net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {}).on("close", () => sockets.delete(s));
    }),
  );
}

async function main(): Promise<void> {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
  const dbPort = await fakePostgres();
  const app = await startApp(dbPort);
  const tlsPort = await tlsTerminator(app);
  const proxy = await latencyProxy(tlsPort);
  const hang = await silent();
  process.stdout.write(
    `${JSON.stringify({ app, tls: tlsPort, proxy, hang, delayMs: DELAY_MS })}\n`,
  );
  process.stdin.on("end", () => process.exit(0)).resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`smokeTargets: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

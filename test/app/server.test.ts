// The reference workload as a real process on loopback, against a real PostgreSQL and against
// TCP servers that are not PostgreSQL. No timed assertions: waits are bounded by mocha's timeout.
import * as assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../model/paths";
import { freePort, startPostgres, type PostgresServer } from "../support/postgres";

const SERVER = path.join(REPO_ROOT, "app", "server.js");

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface App {
  port: number;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves with the first stdout line that satisfies `match`. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Spawns app/server.js with only `env` (plus PATH) and PORT=0; resolves once it listens. */
function spawnApp(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<Exit>;
  out: { stdout: string; stderr: string };
} {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  const out = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out.stderr += d));
  const exited = new Promise<Exit>((resolve) =>
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, exited, out };
}

async function startApp(env: Record<string, string>): Promise<App> {
  const { child, exited, out } = spawnApp(env);
  const waitForLine = (match: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = out.stdout.split("\n").find((l) => l !== "" && match(l));
        if (line !== undefined) {
          child.stdout.off("data", check);
          resolve(line);
        }
      };
      child.stdout.on("data", check);
      void exited.then(() => reject(new Error(`app exited; stderr: ${out.stderr}`)));
      check();
    });
  const listening = await waitForLine((l) => l.includes('"msg":"listening"'));
  const port = (JSON.parse(listening) as { port: number }).port;
  assert.ok(port > 0, "the app prints the port it listens on");
  return {
    port,
    child,
    exited,
    waitForLine,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One HTTP request on its own connection (no keep-alive agent left behind). */
function request(
  port: number,
  method: string,
  urlPath: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: urlPath, agent: false, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let json: unknown;
          try {
            json = text === "" ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const get = (port: number, p: string) => request(port, "GET", p);
const postJson = (port: number, body: string | Buffer) =>
  request(port, "POST", "/api/test-action", body, { "Content-Type": "application/json" });

/** A TCP server that is not PostgreSQL; records what each connection sent it. */
interface FakeServer {
  port: number;
  received: Buffer[];
  connections: number;
  connected: Promise<void>;
  close(): Promise<void>;
}

function fakeTcpServer(onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>();
    let markConnected: () => void = () => undefined;
    const state: FakeServer = {
      port: 0,
      received: [],
      connections: 0,
      connected: new Promise<void>((r) => (markConnected = r)),
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    };
    const srv = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      state.connections++;
      socket.on("data", (d) => state.received.push(d));
      markConnected();
      onConnection(socket);
    });
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address() as net.AddressInfo;
      state.port = addr.port;
      resolve(state);
    });
  });
}

interface DbStatus {
  connected: boolean;
  reason?: string;
  host?: string;
  port?: number;
}

describe("app/server.js: the reference workload", function () {
  let pg: PostgresServer;
  let tmp: string;
  let flagsFile: string;
  const flags = { newCheckout: true, darkMode: false, "pricing.v2": true };
  const fakes: FakeServer[] = [];

  before(async function () {
    pg = await startPostgres();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "envprog-app-"));
    flagsFile = path.join(tmp, "flags.json");
    fs.writeFileSync(flagsFile, JSON.stringify(flags));
  });

  afterEach(async function () {
    const exits = [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    );
    await Promise.all(exits);
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  after(async function () {
    await pg?.stop();
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const dbEnv = () => ({ DB_HOST: "127.0.0.1", DB_PORT: String(pg.port) });

  describe("the smoke contract, with a real PostgreSQL", function () {
    let app: App;
    beforeEach(async function () {
      app = await startApp({
        APP_VERSION: "1.4.2",
        RELEASE_COMMIT: "0a1b2c3",
        APP_ENV: "staging",
        FLAGS_FILE: flagsFile,
        ...dbEnv(),
      });
    });

    it("GET /healthz is 200 {status: ok}", async function () {
      const res = await get(app.port, "/healthz");
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      assert.deepEqual(res.json, { status: "ok" });
    });

    it("GET /api/version reports APP_VERSION, RELEASE_COMMIT and APP_ENV", async function () {
      const res = await get(app.port, "/api/version");
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { version: "1.4.2", commit: "0a1b2c3", environment: "staging" });
    });

    it("GET /api/db-status is connected:true against a running PostgreSQL", async function () {
      const res = await get(app.port, "/api/db-status");
      assert.equal(res.status, 200);
      const body = res.json as DbStatus;
      assert.equal(body.connected, true, `expected connected, got ${res.text}`);
      assert.equal(body.host, "127.0.0.1");
      assert.equal(body.port, pg.port);
      assert.equal(body.reason, undefined);
    });

    it("POST /api/test-action with {test: true} succeeds", async function () {
      const res = await postJson(app.port, JSON.stringify({ test: true }));
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { success: true });
    });

    it("GET /api/flags returns the flags file's content", async function () {
      const res = await get(app.port, "/api/flags");
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, flags);
    });

    it("HEAD /healthz is 200 with no body", async function () {
      const res = await request(app.port, "HEAD", "/healthz");
      assert.equal(res.status, 200);
      assert.equal(res.text, "");
    });

    it("logs one JSON line per request with method, path (no query), status and ms", async function () {
      await get(app.port, "/api/version?token=do-not-log-me");
      await get(app.port, "/nowhere");
      const line = await app.waitForLine((l) => l.includes('"status":404'));
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(entry.method, "GET");
      assert.equal(entry.path, "/nowhere");
      assert.equal(typeof entry.ms, "number");
      const versionLine = await app.waitForLine((l) => l.includes('"path":"/api/version"'));
      assert.equal((JSON.parse(versionLine) as Record<string, unknown>).status, 200);
      assert.doesNotMatch(app.stdout(), /do-not-log-me/);
      const requestLines = app
        .stdout()
        .split("\n")
        .filter((l) => l.includes('"method"'));
      assert.equal(requestLines.length, 2, "exactly one line per request");
    });
  });

  describe("/api/db-status is connected:false without a PostgreSQL behind DB_HOST", function () {
    async function dbStatus(env: Record<string, string>): Promise<{ app: App; body: DbStatus }> {
      const app = await startApp(env);
      const res = await get(app.port, "/api/db-status");
      // 200 with the verdict in the body: the smoke checker decides (see server.js).
      assert.equal(res.status, 200);
      return { app, body: res.json as DbStatus };
    }

    it("when DB_HOST is not set; /healthz stays 200", async function () {
      const { app, body } = await dbStatus({});
      assert.equal(body.connected, false);
      assert.match(String(body.reason), /DB_HOST is not set/);
      assert.equal((await get(app.port, "/healthz")).status, 200);
    });

    it("when nothing listens on DB_PORT; /healthz stays 200", async function () {
      const port = await freePort();
      const { app, body } = await dbStatus({ DB_HOST: "127.0.0.1", DB_PORT: String(port) });
      assert.equal(body.connected, false);
      assert.equal(body.reason, "connection refused");
      assert.equal((await get(app.port, "/healthz")).status, 200);
    });

    it("when the PostgreSQL it was connected to is stopped", async function () {
      const other = await startPostgres();
      let app: App;
      try {
        app = await startApp({ DB_HOST: "127.0.0.1", DB_PORT: String(other.port) });
        const before = (await get(app.port, "/api/db-status")).json as DbStatus;
        assert.equal(before.connected, true, "connected while the server runs");
      } finally {
        await other.stop();
      }
      const after = (await get(app.port, "/api/db-status")).json as DbStatus;
      assert.equal(after.connected, false);
      assert.equal(after.reason, "connection refused");
    });

    it("when a TCP server accepts but answers something that is not PostgreSQL", async function () {
      const fake = await fakeTcpServer((socket) =>
        socket.once("data", () => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n")),
      );
      fakes.push(fake);
      const { body } = await dbStatus({ DB_HOST: "127.0.0.1", DB_PORT: String(fake.port) });
      assert.equal(body.connected, false);
      assert.match(String(body.reason), /not PostgreSQL/);
      // What it sent is the SSLRequest: length 8, code 80877103.
      const sent = Buffer.concat(fake.received);
      assert.equal(sent.length, 8);
      assert.equal(sent.readInt32BE(0), 8);
      assert.equal(sent.readInt32BE(4), 80877103);
    });

    it("when a TCP server accepts and never answers (so a TCP connect alone is not enough)", async function () {
      const fake = await fakeTcpServer(() => undefined);
      fakes.push(fake);
      const { body } = await dbStatus({ DB_HOST: "127.0.0.1", DB_PORT: String(fake.port) });
      assert.equal(fake.connections, 1, "the TCP connection itself succeeded");
      assert.equal(body.connected, false);
      assert.match(String(body.reason), /no answer within \d+ ms/);
    });

    it("when a TCP server accepts and closes without answering", async function () {
      const fake = await fakeTcpServer((socket) => socket.end());
      fakes.push(fake);
      const { body } = await dbStatus({ DB_HOST: "127.0.0.1", DB_PORT: String(fake.port) });
      assert.equal(body.connected, false);
      assert.match(String(body.reason), /closed before an answer|connection reset/);
    });

    it("when the answer starts with 'N' but carries more than PostgreSQL's single byte", async function () {
      const fake = await fakeTcpServer((socket) =>
        socket.once("data", () => socket.write("NOT POSTGRES\r\n")),
      );
      fakes.push(fake);
      const { body } = await dbStatus({ DB_HOST: "127.0.0.1", DB_PORT: String(fake.port) });
      assert.equal(body.connected, false);
      assert.match(String(body.reason), /not PostgreSQL/);
    });
  });

  describe("POST /api/test-action rejects what is not {test: true}", function () {
    let app: App;
    beforeEach(async function () {
      app = await startApp({});
    });

    const bad: Array<[string, string]> = [
      ["a body that is not JSON", "test=true"],
      ["an empty body", ""],
      ["test: false", '{"test": false}'],
      ['test: "true" (a string)', '{"test": "true"}'],
      ["an object without test", '{"other": true}'],
      ["a JSON array", "[true]"],
      ["JSON null", "null"],
      ["a bare JSON true", "true"],
    ];
    for (const [what, body] of bad) {
      it(`400 {success: false, error} for ${what}`, async function () {
        const res = await postJson(app.port, body);
        assert.equal(res.status, 400);
        const json = res.json as { success: unknown; error: unknown };
        assert.equal(json.success, false);
        assert.equal(typeof json.error, "string");
        assert.ok((json.error as string).length > 0);
      });
    }

    it("413 for a body over 64 KiB with a Content-Length", async function () {
      const body = Buffer.alloc(100 * 1024, " ");
      const res = await postJson(app.port, body);
      assert.equal(res.status, 413);
      assert.equal((res.json as { success: unknown }).success, false);
    });

    it("413 for a chunked body that grows over 64 KiB", async function () {
      const res = await new Promise<Reply>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: app.port,
            method: "POST",
            path: "/api/test-action",
            agent: false,
          },
          (r) => {
            let text = "";
            r.setEncoding("utf8");
            r.on("data", (d: string) => (text += d));
            r.on("end", () =>
              resolve({
                status: r.statusCode ?? 0,
                headers: r.headers,
                text,
                json: JSON.parse(text),
              }),
            );
          },
        );
        req.on("error", reject);
        for (let i = 0; i < 10; i++) req.write(Buffer.alloc(10 * 1024, " "));
        req.end();
      });
      assert.equal(res.status, 413);
      assert.equal((res.json as { success: unknown }).success, false);
    });

    it("still accepts {test: true} with other fields", async function () {
      const res = await postJson(app.port, JSON.stringify({ test: true, note: "smoke" }));
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { success: true });
    });
  });

  describe("routing", function () {
    let app: App;
    beforeEach(async function () {
      app = await startApp({});
    });

    it("404 JSON for an unknown path", async function () {
      const res = await get(app.port, "/api/nope");
      assert.equal(res.status, 404);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      assert.equal(typeof (res.json as { error: unknown }).error, "string");
    });

    it("405 with Allow: POST for GET /api/test-action", async function () {
      const res = await get(app.port, "/api/test-action");
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, "POST");
      assert.equal(typeof (res.json as { error: unknown }).error, "string");
    });

    it("405 with Allow: GET, HEAD for POST /healthz and DELETE /api/flags", async function () {
      for (const [method, p] of [
        ["POST", "/healthz"],
        ["DELETE", "/api/flags"],
      ] as const) {
        const res = await request(app.port, method, p, "{}");
        assert.equal(res.status, 405, `${method} ${p}`);
        assert.equal(res.headers.allow, "GET, HEAD");
      }
    });
  });

  describe("configuration", function () {
    async function startupFailure(
      env: Record<string, string>,
    ): Promise<{ exit: Exit; stderr: string }> {
      const { exited, out } = spawnApp(env);
      const exit = await exited;
      return { exit, stderr: out.stderr };
    }

    it("without FLAGS_FILE, /api/flags is an empty object", async function () {
      const app = await startApp({});
      assert.deepEqual((await get(app.port, "/api/flags")).json, {});
    });

    it("without APP_VERSION, /api/version reports version null (never a made-up one)", async function () {
      const app = await startApp({});
      assert.deepEqual((await get(app.port, "/api/version")).json, {
        version: null,
        commit: null,
        environment: null,
      });
    });

    it("exits 1 naming FLAGS_FILE when the file is missing", async function () {
      const missing = path.join(tmp, "missing.json");
      const { exit, stderr } = await startupFailure({ FLAGS_FILE: missing });
      assert.equal(exit.code, 1);
      assert.match(stderr, /FLAGS_FILE/);
      assert.ok(stderr.includes(missing));
    });

    it("exits 1 when the flags file is not JSON", async function () {
      const file = path.join(tmp, "broken.json");
      fs.writeFileSync(file, "{ newCheckout: yes ");
      const { exit, stderr } = await startupFailure({ FLAGS_FILE: file });
      assert.equal(exit.code, 1);
      assert.match(stderr, /not valid JSON/);
    });

    it("exits 1 when a flag is not a boolean", async function () {
      const file = path.join(tmp, "strings.json");
      fs.writeFileSync(file, JSON.stringify({ newCheckout: "true" }));
      const { exit, stderr } = await startupFailure({ FLAGS_FILE: file });
      assert.equal(exit.code, 1);
      assert.match(stderr, /newCheckout.*true or false/);
    });

    it("exits 1 when the flags file is a JSON array", async function () {
      const file = path.join(tmp, "array.json");
      fs.writeFileSync(file, "[true]");
      const { exit, stderr } = await startupFailure({ FLAGS_FILE: file });
      assert.equal(exit.code, 1);
      assert.match(stderr, /JSON object/);
    });

    it("exits 1 for an APP_ENV that is not dev, staging or prod", async function () {
      const { exit, stderr } = await startupFailure({ APP_ENV: "production" });
      assert.equal(exit.code, 1);
      assert.match(stderr, /APP_ENV/);
    });

    it("exits 1 for a PORT that is not a port", async function () {
      const { exit, stderr } = await startupFailure({ PORT: "80a" });
      assert.equal(exit.code, 1);
      assert.match(stderr, /PORT/);
    });
  });

  describe("SIGTERM", function () {
    it("exits 0 when idle", async function () {
      const app = await startApp({});
      assert.equal((await get(app.port, "/healthz")).status, 200);
      app.child.kill("SIGTERM");
      assert.deepEqual(await app.exited, { code: 0, signal: null });
    });

    it("stops accepting, lets the request in flight finish, then exits 0", async function () {
      const silent = await fakeTcpServer(() => undefined);
      fakes.push(silent);
      const app = await startApp({ DB_HOST: "127.0.0.1", DB_PORT: String(silent.port) });
      const inFlight = get(app.port, "/api/db-status");
      await silent.connected; // the app is now inside the request, waiting on the "database"
      app.child.kill("SIGTERM");
      await app.waitForLine((l) => l.includes('"msg":"shutting down"'));
      await assert.rejects(get(app.port, "/healthz"), { code: "ECONNREFUSED" });
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal((res.json as DbStatus).connected, false);
      assert.deepEqual(await app.exited, { code: 0, signal: null });
    });
  });
});

// A real PostgreSQL server for tests and for the local run (npm run local): initdb into a temp dir, listen on 127.0.0.1 on a free port,
// one password-protected login role that owns one database. No mocks: /api/db-status and
// migrate.sh are only worth testing against the server they talk to in a cluster.
//
// A missing PostgreSQL is an error, not a skip: CI installs it (`apt-get install -y postgresql`),
// and a suite that quietly skips its database tests would report green without having run them.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const PG_ROOT = "/usr/lib/postgresql";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** A LOGIN role (not a superuser) that owns `database`; TCP connections need its password. */
  user: string;
  password: string;
  database: string;
  /** The directory holding initdb/pg_ctl/postgres/psql of the version in use. */
  binDir: string;
  /** libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) for `user` over TCP. */
  env(database?: string): Record<string, string>;
  /** Runs SQL as the superuser over the unix socket; rejects with psql's stderr on failure. */
  admin(sql: string, database?: string): Promise<string>;
  /** Creates another database owned by `user` (a clean slate for one test). */
  createDatabase(name: string): Promise<void>;
  /** Stops the server and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The bin dir of the highest PostgreSQL under /usr/lib/postgresql (Debian, Ubuntu), else the
 * directory of `initdb` on PATH (Homebrew, other distributions), or an Error saying how to get one.
 */
export function findPostgresBinDir(root = PG_ROOT, searchPath = process.env.PATH ?? ""): string {
  const needed = ["initdb", "pg_ctl", "postgres", "psql"];
  const complete = (dir: string) => needed.every((b) => fs.existsSync(path.join(dir, b)));
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(root);
  } catch {
    // no such dir: look on PATH, then the install hint
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => complete(path.join(root, v, "bin")))
    .sort((a, b) => Number(b) - Number(a));
  const best = usable[0];
  if (best !== undefined) return path.join(root, best, "bin");
  const onPath = searchPath.split(path.delimiter).find((dir) => dir !== "" && complete(dir));
  if (onPath !== undefined) return onPath;
  throw new Error(
    `PostgreSQL server binaries (${needed.join(", ")}) not found under ${root}/<version>/bin ` +
      "nor together in a directory on PATH. These tests need a real PostgreSQL server: " +
      "`apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS).",
  );
}

/** Runs a command to completion, collecting its output. Never rejects on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A command that does not read its input (psql -c) may exit before the pipe is written:
    // EPIPE then says nothing its exit code does not, and unhandled it would crash the test run.
    child.stdin.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") reject(err);
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Runs psql (the machine's `psql` on PATH unless `bin` is given) with `-X` (no ~/.psqlrc) and
 * `ON_ERROR_STOP`, so a failing statement is a non-zero exit. Connection settings come from `env`
 * (merged over process.env), e.g. `server.env()`.
 */
export function psql(
  args: readonly string[],
  env: Record<string, string> = {},
  bin = "psql",
): Promise<RunResult> {
  return run(bin, ["-X", "-v", "ON_ERROR_STOP=1", ...args], { env: { ...process.env, ...env } });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === "object") resolve(addr.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

interface OsUser {
  uid: number;
  gid: number;
}

// initdb and postgres refuse to run as root; when the tests run as root (CI containers),
// the server runs as the `postgres` OS user that Debian's package creates.
function serverOsUser(): OsUser | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const res = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gres = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (res.status !== 0 || gres.status !== 0) {
    throw new Error(
      "running as root, and there is no `postgres` OS user to run the PostgreSQL server as " +
        "(initdb refuses root). Install the server with `apt-get install -y postgresql`, which creates it.",
    );
  }
  return { uid: Number(res.stdout.trim()), gid: Number(gres.stdout.trim()) };
}

function asServerUser(osUser: OsUser | undefined, bin: string, args: string[]): [string, string[]] {
  return osUser === undefined ? [bin, args] : ["runuser", ["-u", "postgres", "--", bin, ...args]];
}

function chownTree(dir: string, osUser: OsUser): void {
  fs.chownSync(dir, osUser.uid, osUser.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, osUser);
    else fs.chownSync(p, osUser.uid, osUser.gid);
  }
}

function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

async function mustRun(what: string, command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const res = await run(command, args, { env });
  if (res.code !== 0) {
    throw new Error(`${what} failed (exit ${String(res.code)}): ${res.stderr || res.stdout}`);
  }
  return res;
}

export interface StartOptions {
  user?: string;
  database?: string;
}

/** Starts a fresh PostgreSQL server. Always pair with `stop()` in an `after` hook. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir();
  const osUser = serverOsUser();
  const user = options.user ?? "app";
  const database = options.database ?? "app";
  const password = randomBytes(18).toString("base64url");
  const host = "127.0.0.1";

  // Short path: the unix socket path (dir + "/.s.PGSQL.<port>") must fit in 107 bytes.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "envprog-pg-"));
  const dataDir = path.join(root, "data");
  const logFile = path.join(root, "server.log");
  const psqlBin = path.join(binDir, "psql");
  let port = 0;
  let running = false;

  /** pg_ctl stop, as the server's OS user: "fast" from `stop()`, "immediate" on a dying process. */
  const pgCtlStop = (mode: "fast" | "immediate") =>
    asServerUser(osUser, path.join(binDir, "pg_ctl"), ["stop", "-D", dataDir, "-m", mode, "-w"]);

  // If the test process dies without running `after`, do not leave a server behind.
  const onExit = () => {
    if (running) {
      const [cmd, args] = pgCtlStop("immediate");
      spawnSync(cmd, args, { stdio: "ignore" });
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", onExit);
    try {
      if (running) {
        const [cmd, args] = pgCtlStop("fast");
        await mustRun("pg_ctl stop", cmd, args);
        running = false;
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  };

  try {
    if (osUser !== undefined) chownTree(root, osUser);
    // The superuser authenticates by trust over the socket only; TCP always needs a password,
    // so the tests exercise PGPASSWORD the way the migration Job uses it.
    {
      const [cmd, args] = asServerUser(osUser, path.join(binDir, "initdb"), [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
      ]);
      await mustRun("initdb", cmd, args);
    }

    // A free port can be taken between probing and binding: retry a few times.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !running; attempt++) {
      port = await freePort();
      const serverOptions = [
        `-c listen_addresses=${host}`,
        `-p ${port}`,
        `-k ${root}`,
        "-c fsync=off",
        "-c logging_collector=off",
      ].join(" ");
      const [cmd, args] = asServerUser(osUser, path.join(binDir, "pg_ctl"), [
        "start",
        "-D",
        dataDir,
        "-l",
        logFile,
        "-w",
        "-t",
        "60",
        "-o",
        serverOptions,
      ]);
      const res = await run(cmd, args);
      if (res.code === 0) running = true;
      else {
        let log = "";
        try {
          log = fs.readFileSync(logFile, "utf8");
        } catch {
          // no log yet
        }
        lastError = new Error(`pg_ctl start failed: ${res.stderr}${res.stdout}\n${log}`);
      }
    }
    if (!running) throw lastError;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  const admin = async (sql: string, db = "postgres"): Promise<string> => {
    const res = await psql(
      ["-qAt", "-h", root, "-p", String(port), "-U", "postgres", "-d", db, "-c", sql],
      {},
      psqlBin,
    );
    if (res.code !== 0) throw new Error(`psql (admin) failed: ${res.stderr}`);
    return res.stdout;
  };

  const server: PostgresServer = {
    host,
    port,
    user,
    password,
    database,
    binDir,
    env: (db = database) => ({
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: user,
      PGPASSWORD: password,
      PGDATABASE: db,
      PGCONNECT_TIMEOUT: "5",
    }),
    admin,
    createDatabase: async (name: string) => {
      await admin(`CREATE DATABASE ${sqlIdent(name)} OWNER ${sqlIdent(user)}`);
    },
    stop,
  };

  try {
    await admin(`CREATE ROLE ${sqlIdent(user)} LOGIN PASSWORD ${sqlLiteral(password)}`);
    await server.createDatabase(database);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return server;
}

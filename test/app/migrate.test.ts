// app/migrate.sh run by the machine's `sh` with the machine's `psql`, against a real PostgreSQL.
// Each test gets its own database, so order does not matter. Extra migration files go into temp
// copies of app/migrations; app/migrations itself is only read.
import * as assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../model/paths";
import {
  freePort,
  psql,
  run,
  startPostgres,
  type PostgresServer,
  type RunResult,
} from "../support/postgres";

const MIGRATE = path.join(REPO_ROOT, "app", "migrate.sh");
const MIGRATIONS = path.join(REPO_ROOT, "app", "migrations");
const SHIPPED = fs
  .readdirSync(MIGRATIONS)
  .filter((f) => f.endsWith(".sql"))
  .sort();

/** A psql session kept open on a pipe: it holds its locks/snapshot until `release()`. */
interface Holder {
  child: ChildProcessWithoutNullStreams;
  release(): Promise<void>;
}

describe("app/migrate.sh", function () {
  let pg: PostgresServer;
  let tmp: string;
  let dbCount = 0;
  const holders = new Set<Holder>();

  before(async function () {
    pg = await startPostgres();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "envprog-migrate-"));
  });

  afterEach(async function () {
    await Promise.all([...holders].map((h) => h.release()));
  });

  after(async function () {
    await pg?.stop();
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function freshDatabase(): Promise<string> {
    const name = `migrate_${++dbCount}`;
    await pg.createDatabase(name);
    return name;
  }

  function migrate(db: string, env: Record<string, string> = {}): Promise<RunResult> {
    return run("sh", [MIGRATE], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...pg.env(db),
        MIGRATIONS_DIR: MIGRATIONS,
        LOCK_TIMEOUT: "5s",
        STATEMENT_TIMEOUT: "60s",
        ...env,
      },
    });
  }

  async function query(db: string, sql: string): Promise<string[]> {
    const res = await psql(["-qAt", "-c", sql], pg.env(db));
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.split("\n").filter((l) => l !== "");
  }

  /** A copy of app/migrations, minus `drop`, plus `extra` files. */
  function migrationsDir(extra: Record<string, string> = {}, drop: string[] = []): string {
    const dir = fs.mkdtempSync(path.join(tmp, "migrations-"));
    for (const f of SHIPPED.filter((f) => !drop.includes(f))) {
      fs.copyFileSync(path.join(MIGRATIONS, f), path.join(dir, f));
    }
    for (const [name, sql] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), sql);
    return dir;
  }

  /**
   * Opens a psql session on `db`, runs `sql` in it and keeps the transaction open; resolves once
   * the session sits idle in that transaction (so its lock or snapshot is held).
   */
  async function hold(db: string, sql: string): Promise<Holder> {
    const appName = `holder_${Math.random().toString(36).slice(2)}`;
    const child = spawn("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1"], {
      env: { ...process.env, ...pg.env(db), PGAPPNAME: appName },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.resume();
    // If the session dies, the loop below reports it with its stderr; EPIPE adds nothing.
    child.stdin.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const holder: Holder = {
      child,
      release: async () => {
        holders.delete(holder);
        if (child.exitCode === null && child.signalCode === null) {
          child.stdin.end("ROLLBACK;\n");
        }
        await closed;
      },
    };
    holders.add(holder);
    child.stdin.write(`BEGIN;\n${sql}\n`);
    // Bounded by mocha's timeout; polls the server's own view of the session, not a clock.
    for (;;) {
      const state = await query(
        db,
        `SELECT state FROM pg_stat_activity WHERE application_name = '${appName}'`,
      );
      if (state[0] === "idle in transaction") return holder;
      if (child.exitCode !== null) throw new Error(`holder session ended: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("applies every migration once, in order, and records each", async function () {
    const db = await freshDatabase();
    const res = await migrate(db);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.stdout.split("\n").filter((l) => / applied /.test(l)),
      SHIPPED.map((f) => `migrate: applied ${f}`),
    );
    assert.deepEqual(
      await query(db, "SELECT version FROM schema_migrations ORDER BY version"),
      SHIPPED,
    );
  });

  it("creates the orders table, its status column and valid indexes", async function () {
    const db = await freshDatabase();
    assert.equal((await migrate(db)).code, 0);
    const columns = await query(
      db,
      "SELECT column_name || ':' || data_type || ':' || is_nullable FROM information_schema.columns " +
        "WHERE table_name = 'orders' ORDER BY ordinal_position",
    );
    assert.deepEqual(columns, [
      "id:bigint:NO",
      "customer_id:bigint:NO",
      "total_cents:bigint:NO",
      "currency:character:NO",
      "created_at:timestamp with time zone:NO",
      "status:text:NO",
    ]);
    const indexes = await query(
      db,
      "SELECT c.relname || ':' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid " +
        "WHERE i.indrelid = 'orders'::regclass ORDER BY c.relname",
    );
    assert.deepEqual(indexes, [
      "orders_customer_id_idx:true",
      "orders_pkey:true",
      "orders_status_created_at_idx:true",
    ]);
    // The new column works with its default.
    await query(db, "INSERT INTO orders (customer_id, total_cents) VALUES (7, 1250)");
    assert.deepEqual(await query(db, "SELECT status FROM orders"), ["pending"]);
  });

  it("a second run applies nothing and changes nothing", async function () {
    const db = await freshDatabase();
    assert.equal((await migrate(db)).code, 0);
    const recorded = await query(
      db,
      "SELECT version || '@' || applied_at FROM schema_migrations ORDER BY 1",
    );
    const res = await migrate(db);
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stdout, /migrate: applied /);
    assert.deepEqual(
      res.stdout.split("\n").filter((l) => l.includes("already applied ")),
      SHIPPED.map((f) => `migrate: already applied ${f}`),
    );
    assert.deepEqual(
      await query(db, "SELECT version || '@' || applied_at FROM schema_migrations ORDER BY 1"),
      recorded,
    );
  });

  it("applies only the new file when one is added", async function () {
    const db = await freshDatabase();
    assert.equal((await migrate(db)).code, 0);
    const dir = migrationsDir({
      "003_add_note.sql": "ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n",
    });
    const res = await migrate(db, { MIGRATIONS_DIR: dir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^migrate: applied 003_add_note\.sql$/m);
    assert.equal(res.stdout.match(/migrate: applied /g)?.length, 1);
    assert.deepEqual(
      await query(db, "SELECT 1 FROM information_schema.columns WHERE column_name = 'note'"),
      ["1"],
    );
  });

  it("stops at the first failing file, names it, records nothing of it, runs nothing after it", async function () {
    const db = await freshDatabase();
    const dir = migrationsDir({
      "003_broken.sql":
        "CREATE TABLE refunds (id bigint PRIMARY KEY);\nALTER TABLE orders ADD COLUMN oops no_such_type;\n",
      "004_after.sql": "CREATE TABLE after_broken (id bigint);\n",
    });
    const res = await migrate(db, { MIGRATIONS_DIR: dir });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /FAILED 003_broken\.sql/);
    assert.match(res.stderr, /no_such_type/);
    assert.deepEqual(await query(db, "SELECT version FROM schema_migrations ORDER BY 1"), SHIPPED);
    // One transaction per file: the CREATE TABLE before the failing statement is rolled back too.
    assert.deepEqual(
      await query(db, "SELECT to_regclass('refunds') IS NULL, to_regclass('after_broken') IS NULL"),
      ["t|t"],
    );
  });

  describe("lock_timeout: a migration fails fast instead of queueing behind a long transaction", function () {
    it("an ALTER TABLE behind a held lock fails with a lock timeout naming the file, and is not recorded", async function () {
      const db = await freshDatabase();
      assert.equal((await migrate(db)).code, 0);
      // A long-running reader: ACCESS SHARE conflicts with the ACCESS EXCLUSIVE an ALTER needs.
      const reader = await hold(db, "LOCK TABLE orders IN ACCESS SHARE MODE;");
      const dir = migrationsDir({
        "003_add_note.sql": "ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n",
      });

      const res = await migrate(db, { MIGRATIONS_DIR: dir, LOCK_TIMEOUT: "1s" });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /canceling statement due to lock timeout/);
      assert.match(res.stderr, /FAILED 003_add_note\.sql/);
      assert.doesNotMatch(res.stdout, /applied 003_add_note/);
      assert.deepEqual(
        await query(
          db,
          "SELECT count(*) FROM schema_migrations WHERE version = '003_add_note.sql'",
        ),
        ["0"],
      );
      assert.deepEqual(
        await query(
          db,
          "SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'",
        ),
        ["0"],
      );

      // Once the long transaction is gone, the same run succeeds.
      await reader.release();
      const retry = await migrate(db, { MIGRATIONS_DIR: dir, LOCK_TIMEOUT: "1s" });
      assert.equal(retry.code, 0, retry.stderr);
      assert.match(retry.stdout, /^migrate: applied 003_add_note\.sql$/m);
    });

    it("a CREATE INDEX CONCURRENTLY cut short leaves an INVALID index, and the next run repairs it", async function () {
      const db = await freshDatabase();
      const only001 = migrationsDir(
        {},
        SHIPPED.filter((f) => !f.startsWith("001_")),
      );
      assert.equal((await migrate(db, { MIGRATIONS_DIR: only001 })).code, 0);
      // An open snapshot anywhere in the database: CREATE INDEX CONCURRENTLY must wait for it
      // after building the index, and that wait is subject to lock_timeout.
      const snapshot = await hold(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT 1;");

      const res = await migrate(db, { LOCK_TIMEOUT: "1s" });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /lock timeout/);
      assert.match(res.stderr, /FAILED 002_add_order_status\.sql/);
      assert.deepEqual(await query(db, "SELECT version FROM schema_migrations ORDER BY 1"), [
        "001_create_orders.sql",
      ]);
      const validity =
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'orders_status_created_at_idx'";
      assert.deepEqual(await query(db, validity), ["f"], "the failed build left an invalid index");

      await snapshot.release();
      const retry = await migrate(db, { LOCK_TIMEOUT: "1s" });
      assert.equal(retry.code, 0, retry.stderr);
      assert.match(retry.stdout, /^migrate: applied 002_add_order_status\.sql$/m);
      assert.deepEqual(
        await query(db, validity),
        ["t"],
        "the re-run replaced it with a valid index",
      );
    });

    it("passes LOCK_TIMEOUT and STATEMENT_TIMEOUT to the migration's session", async function () {
      const db = await freshDatabase();
      const dir = migrationsDir({
        "003_settings.sql":
          "CREATE TABLE seen_settings AS SELECT current_setting('lock_timeout') AS lock_timeout, " +
          "current_setting('statement_timeout') AS statement_timeout;\n",
      });
      const res = await migrate(db, {
        MIGRATIONS_DIR: dir,
        LOCK_TIMEOUT: "3s",
        STATEMENT_TIMEOUT: "45s",
      });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(
        await query(db, "SELECT lock_timeout || '|' || statement_timeout FROM seen_settings"),
        ["3s|45s"],
      );
    });
  });

  describe("refuses to start with a clear message", function () {
    it("when the database never accepts connections (bounded wait)", async function () {
      const port = await freePort();
      const res = await migrate("nowhere", {
        PGPORT: String(port),
        DB_WAIT_TRIES: "2",
        DB_WAIT_INTERVAL: "0",
      });
      assert.notEqual(res.code, 0);
      assert.match(
        res.stderr,
        new RegExp(`127\\.0\\.0\\.1:${port} did not accept connections after 2 tries`),
      );
    });

    it("when MIGRATIONS_DIR holds no .sql file", async function () {
      const db = await freshDatabase();
      const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
      const res = await migrate(db, { MIGRATIONS_DIR: empty });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /no \*\.sql files in MIGRATIONS_DIR/);
    });

    it("when LOCK_TIMEOUT is not a duration", async function () {
      const db = await freshDatabase();
      const res = await migrate(db, { LOCK_TIMEOUT: "5 seconds" });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /LOCK_TIMEOUT must be a PostgreSQL duration/);
    });

    it("when a migration file name would need quoting", async function () {
      const db = await freshDatabase();
      const dir = migrationsDir({ "003_it's.sql": "SELECT 1;\n" });
      const res = await migrate(db, { MIGRATIONS_DIR: dir });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /FAILED 003_it's\.sql: migration file names may only contain/);
      assert.deepEqual(
        await query(db, "SELECT version FROM schema_migrations ORDER BY 1"),
        SHIPPED,
      );
    });
  });
});

/**
 * The migration files every environment runs, in order: the numbered .sql files and the runner,
 * by file name. The program deploys them (components/migration.ts) and parity compares their
 * content (model/parity/fromConfig.ts), so both read them here.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The runner's file name: its key among the files, and what the migration Job runs. */
export const MIGRATION_RUNNER = "migrate.sh";

/** Reads the migration files; a missing folder or no .sql file is a clear error, not an empty Job. */
export function readMigrations(dir: string, runner: string): Record<string, string> {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort();
  } catch {
    throw new Error(
      `migrations: cannot read the folder ${dir}; expected a folder of numbered .sql files`,
    );
  }
  if (names.length === 0)
    throw new Error(`migrations: ${dir} holds no .sql file; expected at least one`);
  const files: Record<string, string> = {};
  for (const n of names) files[n] = fs.readFileSync(path.join(dir, n), "utf8");
  try {
    files[MIGRATION_RUNNER] = fs.readFileSync(runner, "utf8");
  } catch {
    throw new Error(`migrations: cannot read the runner ${runner}`);
  }
  return files;
}

/** The reference app's migrations, as the program deploys them and verify compares them. */
export function readAppMigrations(rootDir: string): Record<string, string> {
  return readMigrations(
    path.join(rootDir, "app", "migrations"),
    path.join(rootDir, "app", MIGRATION_RUNNER),
  );
}

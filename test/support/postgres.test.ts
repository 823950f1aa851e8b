import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findPostgresBinDir } from "./postgres";

describe("test support: finding PostgreSQL", () => {
  it("takes Debian's highest version, else a PATH directory holding all four binaries, else says how to install", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pg-find-"));
    try {
      const make = (dir: string, names: string[]) => {
        fs.mkdirSync(dir, { recursive: true });
        for (const n of names) fs.writeFileSync(path.join(dir, n), "");
      };
      const all = ["initdb", "pg_ctl", "postgres", "psql"];
      make(path.join(tmp, "lib", "13", "bin"), all);
      make(path.join(tmp, "lib", "15", "bin"), all);
      make(path.join(tmp, "lib", "16", "bin"), ["psql"]);
      make(path.join(tmp, "partial"), ["initdb", "psql"]);
      make(path.join(tmp, "brew"), all);
      const onPath = [path.join(tmp, "partial"), path.join(tmp, "brew")].join(path.delimiter);
      assert.equal(
        findPostgresBinDir(path.join(tmp, "lib"), onPath),
        path.join(tmp, "lib", "15", "bin"),
      );
      assert.equal(findPostgresBinDir(path.join(tmp, "none"), onPath), path.join(tmp, "brew"));
      assert.throws(
        () => findPostgresBinDir(path.join(tmp, "none"), path.join(tmp, "partial")),
        /not found under .* nor together in a directory on PATH.*apt-get install -y postgresql/,
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

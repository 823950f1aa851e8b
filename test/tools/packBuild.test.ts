/**
 * tools/build/pack.ts, the prebuilt pack verify runs: built once per content, rebuilt when a
 * source changes, refusing what the built copy could not run, and pruned to its most recent builds.
 * Over a small pack in a temporary folder, with its own cache folder.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensurePackBuild, KEEP_BUILDS } from "../../tools/build/pack";

describe("tools/build/pack: the prebuilt pack", function () {
  this.timeout(60_000);
  let dir: string;
  let pack: string;
  let cache: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pack-build-"));
    pack = path.join(dir, "pack");
    cache = path.join(dir, "cache");
    fs.mkdirSync(pack);
    fs.writeFileSync(path.join(pack, "package.json"), JSON.stringify({ main: "index.ts" }));
    fs.writeFileSync(
      path.join(pack, "index.ts"),
      `import { n } from "./lib";\nexport const m: number = n;\n`,
    );
    fs.writeFileSync(path.join(pack, "lib.ts"), `export const n: number = 1;\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("builds once per content and rebuilds when a source changes", () => {
    const first = ensurePackBuild(pack, [pack], cache);
    assert.equal(first.built, true);
    const built = require(path.join(first.dir, "index.js")) as { m: number };
    assert.equal(built.m, 1);
    const again = ensurePackBuild(pack, [pack], cache);
    assert.deepEqual(again, { ...first, built: false });
    fs.writeFileSync(path.join(pack, "lib.ts"), `export const n: number = 2;\n`);
    const changed = ensurePackBuild(pack, [pack], cache);
    assert.equal(changed.built, true);
    assert.notEqual(changed.key, first.key);
  });

  it("refuses a module that reads __dirname, naming it", () => {
    fs.writeFileSync(path.join(pack, "lib.ts"), `export const n: number = __dirname.length;\n`);
    assert.throws(() => ensurePackBuild(pack, [pack], cache), /lib\.ts reads __dirname/);
    assert.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache) : [], [], "no build is left");
  });

  it(`keeps the ${KEEP_BUILDS} most recent builds, the current one among them`, () => {
    const keys: string[] = [];
    for (let i = 0; i < KEEP_BUILDS + 3; i++) {
      fs.writeFileSync(path.join(pack, "lib.ts"), `export const n: number = ${i};\n`);
      keys.push(ensurePackBuild(pack, [pack], cache).key);
    }
    const left = fs.readdirSync(cache).sort();
    assert.deepEqual(left, keys.slice(-KEEP_BUILDS).sort());
  });
});

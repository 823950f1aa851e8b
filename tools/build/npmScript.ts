/**
 * An npm script of a checkout as a command to spawn without npm's own start: what the benchmarks
 * time and the process tests run is then the script itself, not a copy of it that could drift.
 * `node …` runs on this process's Node (the project's Node 24), `ts-node …` through the
 * repository's ts-node.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../model/paths";

export function npmScriptCommand(root: string, script: string): [string, ...string[]] {
  const file = path.join(root, "package.json");
  const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { scripts?: Record<string, string> };
  const line = pkg.scripts?.[script];
  if (line === undefined) throw new Error(`${file}: no scripts.${script}`);
  if (/[|&;<>$`"'\\]/.test(line))
    throw new Error(`${file}: scripts.${script} is not a plain command line: ${line}`);
  const [bin, ...args] = line.trim().split(/\s+/);
  if (bin === "node") return [process.execPath, ...args];
  if (bin === "ts-node")
    return [
      process.execPath,
      path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"),
      ...args,
    ];
  throw new Error(`${file}: scripts.${script} runs neither node nor ts-node: ${line}`);
}

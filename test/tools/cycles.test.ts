/**
 * No import cycle inside model/ (issue 12: "model/ as plain layers with no cycle"), type-only
 * imports included: a cycle of types still ties the files' meanings together. The import graph is
 * read with TypeScript's own pre-processor (every `import`, `export … from` and `require`), and
 * the same check runs over a planted cycle first, so that it is known to be able to fail.
 */
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { REPO_ROOT } from "../../model/paths";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return tsFiles(file);
    return file.endsWith(".ts") ? [file] : [];
  });
}

/** Each file's relative imports that resolve to another file of the set. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith("."))
      .flatMap((name) => {
        const base = path.resolve(path.dirname(file), name);
        return [`${base}.ts`, path.join(base, "index.ts"), base].filter((c) => known.has(c));
      });
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The cycles of a graph, each as the files on it (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("model/ has no import cycle", () => {
  it("finds a planted cycle, type-only imports included", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cycles-"));
    try {
      writeFileSync(path.join(dir, "a.ts"), 'import type { B } from "./b";\nexport type A = B;\n');
      writeFileSync(path.join(dir, "b.ts"), 'export { type A as B } from "./c/index";\n');
      writeFileSync(path.join(dir, "c.ts"), "export const c = 1;\n");
      mkdirSync(path.join(dir, "c"));
      writeFileSync(
        path.join(dir, "c", "index.ts"),
        'import type { A } from "../a";\nexport type { A };\n',
      );
      const found = cycles(importGraph(tsFiles(dir)));
      assert.deepEqual(
        found.map((c) => c.map((f) => path.relative(dir, f))),
        [["a.ts", "b.ts", path.join("c", "index.ts")]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("in the repository's model/", () => {
    const files = tsFiles(path.join(REPO_ROOT, "model"));
    assert.ok(files.length > 20, `read ${files.length} files of model/`);
    const graph = importGraph(files);
    // The resolver must see model/'s own imports, or an empty graph would pass for no cycle.
    const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
    assert.ok(edges > 20, `resolved ${edges} imports inside model/`);
    const found = cycles(graph);
    assert.deepEqual(
      found.map((c) => c.map((f) => path.relative(REPO_ROOT, f)).join(" → ")),
      [],
    );
  });
});

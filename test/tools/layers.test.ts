import assert from "node:assert/strict";
import { ESLint } from "eslint";
import { REPO_ROOT } from "../../model/paths";

// The layer rules live in eslint.config.mjs; these cases lint a planted file through the real
// config so that a rule that stops matching (a moved folder, a typo in a regex) fails here and
// not only in review. Only the layer rule runs, and without the type-aware project service: a
// planted file is not on disk, and the other rules have nothing to say about an import line.
const RULE = "@typescript-eslint/no-restricted-imports";
const eslint = new ESLint({
  cwd: REPO_ROOT,
  ruleFilter: ({ ruleId }) => ruleId === RULE,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function layerMessages(filePath: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${text}\nexport {};\n`, { filePath });
  assert.ok(result, `no lint result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${filePath} did not parse`);
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

const violations: [rule: string, file: string, line: string, says: RegExp][] = [
  [
    "model imports nothing above it",
    "model/planted.ts",
    `import type { EnvironmentArgs } from "../components/environment";`,
    /model\/ is the bottom layer/,
  ],
  [
    "model imports nothing above it (nested file, value import)",
    "model/parity/planted.ts",
    `import { checkSmoke } from "../../smoke/run";`,
    /model\/ is the bottom layer/,
  ],
  [
    "model does not import the program",
    "model/parity/planted.ts",
    `import { readEnvironment } from "../../config";`,
    /does not import the program/,
  ],
  [
    "model imports no Pulumi SDK",
    "model/planted.ts",
    `import * as pulumi from "@pulumi/pulumi";`,
    /no Pulumi resource/,
  ],
  [
    "policies never import components",
    "policies/planted.ts",
    `import type { WorkloadArgs } from "../components/workload";`,
    /policies never import components/,
  ],
  [
    "smoke never imports components",
    "smoke/planted.ts",
    `import { SmokeTest } from "../components/smokeTest";`,
    /smoke\/ never imports components/,
  ],
  [
    "tools go through model, not components",
    "tools/verify/planted.ts",
    `import { readMigrations } from "../../components/migration";`,
    /tools\/ go through model/,
  ],
  [
    "tools go through model, not policies",
    "tools/planted.ts",
    `import type { PolicyName } from "../policies/lib/catalog";`,
    /tools\/ go through model/,
  ],
];

const permitted: [file: string, line: string][] = [
  // model/config/ is a folder of model/, not the root config.ts.
  [
    "model/parity/planted.ts",
    `import type { EnvironmentConfig } from "../config/environmentConfig";`,
  ],
  ["model/planted.ts", `import { parseQuantity } from "./quantity";`],
  ["policies/planted.ts", `import { resourceName } from "../model/resources";`],
  ["smoke/planted.ts", `import { CONTRACT } from "./contract";`],
  ["tools/verify/planted.ts", `import { readMigrations } from "../../model/migrations";`],
  ["components/planted.ts", `import { evaluatePolicies } from "../policies/lib/policy";`],
];

describe("layer rules (eslint.config.mjs)", function () {
  this.timeout(60_000);

  for (const [rule, file, line, says] of violations) {
    it(`${rule}: fires on ${line} in ${file}`, async () => {
      const messages = await layerMessages(file, line);
      assert.equal(messages.length, 1, `expected one layer error, got ${JSON.stringify(messages)}`);
      assert.match(messages[0] ?? "", says);
    });
  }

  for (const [file, line] of permitted) {
    it(`permits ${line} in ${file}`, async () => {
      assert.deepEqual(await layerMessages(file, line), []);
    });
  }
});

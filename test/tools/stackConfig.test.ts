import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readStackConfig, StackFileError } from "../../tools/stackConfig";
import { REPO_ROOT } from "../../model/paths";

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackcfg-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const PROJECT_YAML = `name: demo
runtime: nodejs
config:
  image:
    type: string
    default: node:24-alpine
  flags:
    type: array
    items: { type: string }
    default: [a=on]
  plain: 3
`;

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StackFileError, `not a StackFileError: ${err}`);
    return err.problems;
  }
  assert.fail("no error");
}

describe("tools/stackConfig: the config the CLI would hand the program", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const mk = (files: Record<string, string>) => {
    const d = project(files);
    dirs.push(d);
    return d;
  };

  it("layers the stack file over Pulumi.yaml's defaults, values as text, secrets kept apart", () => {
    const dir = mk({
      "Pulumi.yaml": PROJECT_YAML,
      "Pulumi.dev.yaml": `encryptionsalt: v1:abc\nconfig:\n  demo:image: other\n  demo:n: 2\n  demo:on: true\n  demo:obj: {a: [1]}\n  demo:pw:\n    secure: v1:xyz\n  kubernetes:context: kind\n`,
    });
    const cfg = readStackConfig(dir, "dev");
    assert.deepEqual(cfg.values, {
      "demo:image": "other",
      "demo:flags": '["a=on"]',
      "demo:plain": "3",
      "demo:n": "2",
      "demo:on": "true",
      "demo:obj": '{"a":[1]}',
      "kubernetes:context": "kind",
    });
    assert.deepEqual(cfg.secure, { "demo:pw": "v1:xyz" });
    assert.equal(cfg.encryptionsalt, "v1:abc");
    assert.equal(cfg.sources["demo:image"], "Pulumi.dev.yaml");
    assert.equal(cfg.sources["demo:flags"], "Pulumi.yaml");
  });

  it("reads this repository's three stacks", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const cfg = readStackConfig(REPO_ROOT, stack);
      assert.ok(cfg.values["env-progression:host"], stack);
      assert.deepEqual(cfg.secure, {}, `${stack} commits no secret`);
    }
  });

  it("names a missing stack file", () => {
    const dir = mk({ "Pulumi.yaml": PROJECT_YAML });
    const [p] = problems(() => readStackConfig(dir, "qa"));
    assert.match(p ?? "", /^Pulumi\.qa\.yaml: cannot be read \(ENOENT\); expected the file at .*Pulumi\.qa\.yaml$/);
  });

  it("names a stack file that is not YAML", () => {
    const dir = mk({ "Pulumi.yaml": PROJECT_YAML, "Pulumi.dev.yaml": "config:\n  demo:a: [1\n" });
    const [p] = problems(() => readStackConfig(dir, "dev"));
    assert.match(p ?? "", /^Pulumi\.dev\.yaml: is not valid YAML: /);
  });

  it("lists every structural problem at once", () => {
    const dir = mk({
      "Pulumi.yaml": PROJECT_YAML,
      "Pulumi.dev.yaml": "configs: {}\nconfig:\n  replicas: 2\n  demo:empty:\nencryptionsalt: 3\n",
    });
    assert.deepEqual(problems(() => readStackConfig(dir, "dev")), [
      'Pulumi.dev.yaml: top-level key "configs" is not part of a stack file; expected one of config, encryptionsalt, secretsprovider, encryptedkey, environment',
      'Pulumi.dev.yaml: config key "replicas" has no namespace; expected demo:replicas',
      "Pulumi.dev.yaml: demo:empty has no value; give it one or remove the line",
      'Pulumi.dev.yaml: encryptionsalt is not a string; expected the "v1:…" value pulumi wrote',
    ]);
  });

  it("names a Pulumi.yaml without a project name", () => {
    const dir = mk({ "Pulumi.yaml": "runtime: nodejs\n", "Pulumi.dev.yaml": "config: {}\n" });
    assert.deepEqual(problems(() => readStackConfig(dir, "dev")), [
      'Pulumi.yaml: has no project name; expected "name: <project>" at the top',
    ]);
  });
});

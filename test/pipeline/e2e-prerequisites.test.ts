import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import {
  checkPrerequisites,
  projectNamespaces,
  type CommandResult,
  type PrerequisiteProbes,
} from "../e2e/prerequisites";
import { stripSecrets } from "../e2e/workspace";

/** A machine described by what is on PATH and what kubectl answers. */
function machine(opts: {
  onPath?: string[];
  context?: string | { error: string };
  readyz?: CommandResult;
  /** What `kubectl get namespaces -o name` answers. */
  namespaces?: CommandResult;
  environ?: Record<string, string>;
}): PrerequisiteProbes & { commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    environ: opts.environ ?? {},
    which: (name) =>
      (opts.onPath ?? ["pulumi", "kubectl"]).includes(name) ? `/usr/bin/${name}` : undefined,
    run: (command, args) => {
      commands.push([command, ...args].join(" "));
      if (args[0] === "config") {
        const ctx = opts.context ?? "kind-env-progression";
        return typeof ctx === "string"
          ? { status: 0, stdout: `${ctx}\n`, stderr: "" }
          : { status: 1, stdout: "", stderr: `${ctx.error}\n` };
      }
      if (args.includes("namespaces"))
        return (
          opts.namespaces ?? {
            status: 0,
            stdout: "namespace/default\nnamespace/kube-system\nnamespace/ingress-nginx\n",
            stderr: "",
          }
        );
      return opts.readyz ?? { status: 0, stdout: "ok", stderr: "" };
    },
  };
}

describe("e2e prerequisites: run, or say exactly why not", () => {
  it("ready on a kind context that answers", () => {
    assert.deepEqual(checkPrerequisites(machine({})), {
      ready: true,
      context: "kind-env-progression",
    });
  });

  it("E2E=0 opts out, without asking kubectl anything", () => {
    const m = machine({ environ: { E2E: "0" } });
    assert.deepEqual(checkPrerequisites(m), { ready: false, reasons: ["E2E=0 is set"] });
    assert.deepEqual(m.commands, []);
  });

  it("names a missing pulumi CLI and a missing kubectl", () => {
    assert.deepEqual(checkPrerequisites(machine({ onPath: [] })), {
      ready: false,
      reasons: ["the pulumi CLI is not on PATH", "kubectl is not on PATH"],
    });
  });

  it("names a missing current context, with kubectl's own words", () => {
    const m = machine({ context: { error: "error: current-context is not set" } });
    assert.deepEqual(checkPrerequisites(m), {
      ready: false,
      reasons: ["kubectl has no current context (error: current-context is not set)"],
    });
  });

  it("never deploys to a context that is not a kind cluster unless named in E2E_KUBE_CONTEXT", () => {
    const m = machine({ context: "prod-eu-west-1" });
    const r = checkPrerequisites(m);
    assert.equal(r.ready, false);
    assert.match(!r.ready ? r.reasons[0]! : "", /"prod-eu-west-1" is not a kind cluster/);
    // It did not even ask that cluster whether it is ready.
    assert.deepEqual(m.commands, ["kubectl config current-context"]);
    assert.deepEqual(
      checkPrerequisites(
        machine({ context: "minikube", environ: { E2E_KUBE_CONTEXT: "minikube" } }),
      ),
      {
        ready: true,
        context: "minikube",
      },
    );
  });

  it("names a cluster that does not answer", () => {
    const r = checkPrerequisites(
      machine({
        readyz: {
          status: 1,
          stdout: "",
          stderr: "The connection to the server 127.0.0.1:6443 was refused",
        },
      }),
    );
    assert.deepEqual(r, {
      ready: false,
      reasons: [
        'the cluster of context "kind-env-progression" does not answer (The connection to the server 127.0.0.1:6443 was refused)',
      ],
    });
  });
});

describe("e2e prerequisites: a cluster that already runs this project", () => {
  const REPO = path.resolve(__dirname, "../..");
  const OURS = ["app-dev", "app-staging", "app-prod"];

  it("knows the namespaces the suite's copy deploys: <appName>-<stack>, from the stack files", () => {
    assert.deepEqual(projectNamespaces(REPO), OURS);
    const dir = mkdtempSync(path.join(os.tmpdir(), "e2e-ns-"));
    try {
      writeFileSync(path.join(dir, "Pulumi.yaml"), readFileSync(path.join(REPO, "Pulumi.yaml")));
      for (const env of ["dev", "staging", "prod"])
        writeFileSync(
          path.join(dir, `Pulumi.${env}.yaml`),
          env === "prod" ? "config:\n  env-progression:appName: shop\n" : "config: {}\n",
        );
      assert.deepEqual(projectNamespaces(dir), ["app-dev", "app-staging", "shop-prod"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs on a cluster without them", () => {
    const m = machine({});
    assert.deepEqual(checkPrerequisites(m, OURS), { ready: true, context: "kind-env-progression" });
    assert.ok(m.commands.includes("kubectl --context kind-env-progression get namespaces -o name"));
  });

  it("stops, naming them, where the project is already deployed (the kind walkthrough's cluster)", () => {
    const r = checkPrerequisites(
      machine({
        namespaces: { status: 0, stdout: "namespace/default\nnamespace/app-dev\nnamespace/app-prod\n", stderr: "" },
      }),
      OURS,
    );
    assert.equal(r.ready, false);
    assert.match(
      !r.ready ? (r.reasons[0] ?? "") : "",
      /^the cluster of context "kind-env-progression" already has namespace app-dev, app-prod, which the suite's copy of the project deploys and then destroys .*docs\/deploy\.md, step 9.*another disposable cluster's context; or set E2E=0$/,
    );
  });

  it("stops when it cannot list the namespaces, with kubectl's words", () => {
    const r = checkPrerequisites(
      machine({ namespaces: { status: 1, stdout: "", stderr: "Error from server (Forbidden): namespaces is forbidden\n" } }),
      OURS,
    );
    assert.deepEqual(r, {
      ready: false,
      reasons: [
        'could not list the namespaces of context "kind-env-progression" (Error from server (Forbidden): namespaces is forbidden)',
      ],
    });
  });
});

describe("e2e secrets: re-keying a stack file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "e2e-rekey-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("drops the salt and every secure value, keeps the rest and its comments", () => {
    const file = path.join(dir, "Pulumi.staging.yaml");
    writeFileSync(
      file,
      [
        "encryptionsalt: v1:abc:def",
        "config:",
        "  # the release",
        "  env-progression:image: app@sha256:" + "a".repeat(64),
        "  env-progression:dbPassword:",
        "    secure: v1:xyz",
        "  env-progression:flags:",
        "    checkout: true",
        "",
      ].join("\n"),
    );
    assert.deepEqual(stripSecrets(file), ["env-progression:dbPassword"]);
    const text = readFileSync(file, "utf8");
    assert.match(text, /# the release/);
    assert.deepEqual(parse(text), {
      config: {
        "env-progression:image": "app@sha256:" + "a".repeat(64),
        "env-progression:flags": { checkout: true },
      },
    });
  });

  it("refuses a secret nested in a structured value instead of guessing", () => {
    const file = path.join(dir, "Pulumi.dev.yaml");
    writeFileSync(
      file,
      "config:\n  env-progression:db:\n    user: app\n    password:\n      secure: v1:xyz\n",
    );
    assert.throws(() => stripSecrets(file), /env-progression:db holds a nested secret/);
  });

  it("a missing stack file has nothing to re-key", () => {
    assert.deepEqual(stripSecrets(path.join(dir, "Pulumi.prod.yaml")), []);
  });
});

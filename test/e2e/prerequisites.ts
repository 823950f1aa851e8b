/**
 * Whether this machine can run the end-to-end suite, and if not, exactly why.
 *
 * The suite deploys three namespaces to the current kube context and destroys them after, so it
 * needs: the pulumi CLI, kubectl, a current context that answers, and a context that is safe to
 * deploy to: a kind cluster (`kind-*`) or the one named in E2E_KUBE_CONTEXT. A developer whose
 * current context points at a real cluster gets a skip with the reason, not a deployment. So does
 * a cluster that already runs this project (the kind walkthrough's): the suite's copy has the same
 * namespaces and hosts, so it would collide with it, and its clean-up would not be yours.
 */
import { spawnSync } from "node:child_process";
import { ENVIRONMENTS } from "../../model/environment";
import { findOnPath, type Environ } from "../../tools/promote/setup";
import { readStackConfig } from "../../tools/stackConfig";

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface PrerequisiteProbes {
  environ: Environ;
  which(name: string): string | undefined;
  run(command: string, args: string[], timeoutMs: number): CommandResult;
}

export type Readiness = { ready: true; context: string } | { ready: false; reasons: string[] };

export const KUBE_READY_TIMEOUT_MS = 15_000;

/**
 * The namespaces the suite's copy of the project deploys: `<appName>-<stack>` for each stack, with
 * appName from the stack file or Pulumi.yaml's default (the copy keeps both).
 */
export function projectNamespaces(dir: string): string[] {
  return ENVIRONMENTS.map((env) => {
    let appName = "app";
    try {
      appName = readStackConfig(dir, env).values["env-progression:appName"] ?? appName;
    } catch {
      // An unreadable stack file fails the suite later, with the program's own error.
    }
    return `${appName}-${env}`;
  });
}

/**
 * Whether the suite may run, and if not, every reason. `namespaces`: those its copy deploys; any
 * of them already in the cluster stops it.
 */
export function checkPrerequisites(
  probes: PrerequisiteProbes,
  namespaces: readonly string[] = [],
): Readiness {
  // `npm test` includes this suite; E2E=0 keeps a machine that has it all from deploying on every run.
  if (probes.environ.E2E === "0") return { ready: false, reasons: ["E2E=0 is set"] };
  const reasons: string[] = [];
  if (!probes.which("pulumi")) reasons.push("the pulumi CLI is not on PATH");
  if (!probes.which("kubectl")) {
    reasons.push("kubectl is not on PATH");
    return { ready: false, reasons };
  }
  const current = probes.run("kubectl", ["config", "current-context"], KUBE_READY_TIMEOUT_MS);
  const context = current.stdout.trim();
  if (current.status !== 0 || context === "") {
    reasons.push(
      `kubectl has no current context (${firstLine(current.stderr) || "no kubeconfig"})`,
    );
    return { ready: false, reasons };
  }
  const allowed = probes.environ.E2E_KUBE_CONTEXT?.trim();
  if (!context.startsWith("kind-") && context !== allowed) {
    reasons.push(
      `the current kube context "${context}" is not a kind cluster; the suite deploys and destroys ` +
        `three namespaces, so it runs only on kind-* contexts or on the context named in E2E_KUBE_CONTEXT`,
    );
    return { ready: false, reasons };
  }
  const ready = probes.run(
    "kubectl",
    ["--context", context, "get", "--raw", "/readyz"],
    KUBE_READY_TIMEOUT_MS,
  );
  if (ready.status !== 0) {
    reasons.push(
      `the cluster of context "${context}" does not answer (${firstLine(ready.stderr) || "timed out"})`,
    );
    return { ready: false, reasons };
  }
  if (namespaces.length > 0) {
    const listed = probes.run(
      "kubectl",
      ["--context", context, "get", "namespaces", "-o", "name"],
      KUBE_READY_TIMEOUT_MS,
    );
    if (listed.status !== 0) {
      reasons.push(
        `could not list the namespaces of context "${context}" (${firstLine(listed.stderr) || "timed out"})`,
      );
    } else {
      const existing = new Set(listed.stdout.split("\n").map((l) => l.trim().replace(/^namespace\//, "")));
      const taken = namespaces.filter((n) => existing.has(n));
      if (taken.length > 0) {
        reasons.push(
          `the cluster of context "${context}" already has namespace ${taken.join(", ")}, which the ` +
            `suite's copy of the project deploys and then destroys (a deployment of this project?); ` +
            `run it where this project is not deployed: tear that deployment down first ` +
            `(docs/deploy.md, step 9), or switch to another disposable cluster's context; or set E2E=0`,
        );
      }
    }
  }
  return reasons.length > 0 ? { ready: false, reasons } : { ready: true, context };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.trim() ?? "";
}

export const realProbes: PrerequisiteProbes = {
  environ: process.env,
  which: (name) => findOnPath(name),
  run: (command, args, timeoutMs) => {
    const r = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
  },
};

/**
 * Mocha `before` body: skip the suite with the reasons printed, or, when E2E_REQUIRED=1 (the e2e
 * workflow), fail it: there a skip would let a green run prove nothing.
 */
export function requireCluster(
  ctx: Mocha.Context,
  namespaces: readonly string[],
  probes: PrerequisiteProbes = realProbes,
): string {
  const readiness = checkPrerequisites(probes, namespaces);
  if (readiness.ready) return readiness.context;
  return notReady(ctx, readiness.reasons.join("; "), probes.environ);
}

/** Skip the current suite or test saying why; under E2E_REQUIRED=1, fail it instead. */
export function notReady(ctx: Mocha.Context, why: string, environ: Environ = process.env): never {
  if (environ.E2E_REQUIRED === "1") {
    throw new Error(`end-to-end prerequisites missing and E2E_REQUIRED=1: ${why}`);
  }
  console.log(`      e2e SKIPPED (not run, not passed): ${why}`);
  ctx.skip();
}

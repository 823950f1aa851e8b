/**
 * Whether this machine can run the end-to-end suite, and if not, exactly why.
 *
 * The suite deploys three namespaces to the current kube context and destroys them after, so it
 * needs: the pulumi CLI, kubectl, a current context that answers, and a context that is safe to
 * deploy to: a kind cluster (`kind-*`) or the one named in E2E_KUBE_CONTEXT. A developer whose
 * current context points at a real cluster gets a skip with the reason, not a deployment.
 */
import { spawnSync } from "node:child_process";
import { findOnPath, type Environ } from "../../tools/promote/setup";

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

export function checkPrerequisites(probes: PrerequisiteProbes): Readiness {
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
  probes: PrerequisiteProbes = realProbes,
): string {
  const readiness = checkPrerequisites(probes);
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

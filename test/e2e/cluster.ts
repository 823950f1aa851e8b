/**
 * kubectl helpers for the end-to-end suite: probe pods and TCP reachability between namespaces.
 *
 * Probes are TCP connects (`nc -z`) from a busybox pod that runs as the namespace's own pods
 * must (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp), so a
 * namespace enforcing the `restricted` Pod Security Standard admits it, and the namespace's
 * NetworkPolicies apply to it exactly as to the workload.
 */
import { spawnSync } from "node:child_process";

export const PROBE_IMAGE = "busybox:1.36.1";

export interface Kubectl {
  (
    args: string[],
    opts?: { input?: string; timeoutMs?: number; allowFailure?: boolean },
  ): {
    status: number | null;
    stdout: string;
    stderr: string;
  };
}

export function kubectlFor(context: string): Kubectl {
  return (args, opts = {}) => {
    const r = spawnSync("kubectl", ["--context", context, ...args], {
      encoding: "utf8",
      input: opts.input,
      timeout: opts.timeoutMs ?? 120_000,
    });
    const result = {
      status: r.status,
      stdout: r.stdout ?? "",
      stderr: r.stderr ?? r.error?.message ?? "",
    };
    if (result.status !== 0 && !opts.allowFailure) {
      throw new Error(
        `kubectl ${args.join(" ")} failed (${result.status}): ${result.stderr.trim()}`,
      );
    }
    return result;
  };
}

const RESTRICTED = {
  runAsNonRoot: true,
  runAsUser: 65534,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** A pod that sleeps, to exec probes from; or, with `serve`, answers HTTP on 8080. */
export function podManifest(namespace: string, name: string, serve = false): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "e2e" },
    },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "probe",
          image: PROBE_IMAGE,
          command: serve ? ["httpd", "-f", "-p", "8080", "-h", "/tmp"] : ["sleep", "3600"],
          securityContext: RESTRICTED,
          resources: {
            requests: { cpu: "10m", memory: "16Mi" },
            limits: { cpu: "100m", memory: "32Mi" },
          },
          ...(serve ? { ports: [{ containerPort: 8080 }] } : {}),
        },
      ],
    },
  });
}

export function startPod(kubectl: Kubectl, namespace: string, name: string, serve = false): void {
  kubectl(["apply", "-f", "-"], { input: podManifest(namespace, name, serve) });
  kubectl(["wait", "-n", namespace, `pod/${name}`, "--for=condition=Ready", "--timeout=180s"], {
    timeoutMs: 200_000,
  });
}

export function deletePod(kubectl: Kubectl, namespace: string, name: string): void {
  kubectl(["delete", "pod", "-n", namespace, name, "--ignore-not-found", "--wait=false"], {
    allowFailure: true,
  });
}

/** One TCP connect attempt from a probe pod, 3 s timeout. */
export function connects(
  kubectl: Kubectl,
  from: { namespace: string; pod: string },
  host: string,
  port: number,
): boolean {
  const r = kubectl(
    ["exec", "-n", from.namespace, from.pod, "--", "nc", "-z", "-w", "3", host, String(port)],
    {
      allowFailure: true,
      timeoutMs: 30_000,
    },
  );
  return r.status === 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether any of `attempts` TCP connects succeeds, 2 s apart. Expecting a connection, give it
 * several attempts (policies and DNS settle after a rollout); expecting none, every attempt must
 * fail for the answer to be "unreachable".
 */
export async function reachable(
  kubectl: Kubectl,
  from: { namespace: string; pod: string },
  target: { host: string; port: number },
  attempts: number,
): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(2_000);
    if (connects(kubectl, from, target.host, target.port)) return true;
  }
  return false;
}

export interface ServiceTarget {
  name: string;
  host: string;
  /** The Service's first port. */
  port: number;
  ports: { name?: string; port: number }[];
}

interface ServiceJson {
  metadata: { name: string; namespace: string };
  spec: { ports?: { port: number; name?: string }[]; type?: string };
}

interface IngressBackend {
  service?: { name?: string; port?: { number?: number; name?: string } };
}

interface IngressJson {
  spec?: { rules?: { http?: { paths?: { backend?: IngressBackend }[] } }[] };
}

/** Every Service of a namespace, as cluster DNS names with their first port. */
export function services(kubectl: Kubectl, namespace: string): ServiceTarget[] {
  const list = JSON.parse(kubectl(["get", "services", "-n", namespace, "-o", "json"]).stdout) as {
    items: ServiceJson[];
  };
  return list.items
    .filter((s) => s.spec.type !== "ExternalName" && (s.spec.ports?.length ?? 0) > 0)
    .map((s) => ({
      name: s.metadata.name,
      host: `${s.metadata.name}.${namespace}.svc.cluster.local`,
      port: s.spec.ports![0]!.port,
      ports: s.spec.ports!,
    }));
}

/** The Service (and port) the namespace's Ingress routes to: the workload the smoke tests reach. */
export function appService(kubectl: Kubectl, namespace: string): ServiceTarget {
  const all = services(kubectl, namespace);
  const ingresses = JSON.parse(
    kubectl(["get", "ingress", "-n", namespace, "-o", "json"]).stdout,
  ) as {
    items: IngressJson[];
  };
  const backends = ingresses.items.flatMap((i) =>
    (i.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service)),
  );
  for (const backend of backends) {
    const svc = all.find((s) => s.name === backend?.name);
    if (!svc) continue;
    const port =
      backend?.port?.number ??
      svc.ports.find((p) => p.name !== undefined && p.name === backend?.port?.name)?.port;
    return { ...svc, port: port ?? svc.port };
  }
  throw new Error(
    `no Ingress in ${namespace} routes to a Service: cannot tell the workload's Service`,
  );
}

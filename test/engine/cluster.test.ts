/**
 * The local control plane of tools/cluster/, proven through its API: what the stacks rely on a
 * cluster for must happen here, by the same controllers and admission as on a real one (with kwok
 * playing the kubelet). It starts the cluster if it is not up (cluster:up is idempotent) and
 * leaves it running for the other engine suites. It never skips: without a built engine, the
 * `before` hook fails with cluster:up's reason.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { kubeApi } from "../../tools/local/kube";
import { parse as parseYaml } from "yaml";

const repo = path.resolve(__dirname, "..", "..");
const CONTEXT = "env-progression-local";

function script(name: string, ...args: string[]) {
  const r = spawnSync("bash", [path.join(repo, "tools", "cluster", name), ...args], {
    cwd: repo,
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

interface Response {
  status: number;
  // The API's JSON, loosely typed: each test reads the few fields it asserts on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** tools/local/kube.ts as these tests use it: every answer with its status; create wants a 201. */
function testApi(kubeconfigPath: string) {
  const kube = kubeApi(kubeconfigPath);
  const request = (method: string, apiPath: string, body?: unknown) =>
    kube.request(method, apiPath, body) as Promise<Response>;
  return {
    request,
    get: (apiPath: string) => request("GET", apiPath),
    async create(apiPath: string, obj: unknown): Promise<Response> {
      const r = await request("POST", apiPath, obj);
      assert.equal(
        r.status,
        201,
        `POST ${apiPath}: HTTP ${r.status}: ${JSON.stringify(r.body?.message ?? r.body)}`,
      );
      return r;
    },
  };
}

/** Polls until `probe` returns something, or fails with `what` and the last thing it saw. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  last?: () => unknown,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const seen = last ? `; last seen: ${JSON.stringify(last())}` : "";
      assert.fail(`${what} did not happen within ${timeoutMs / 1000}s${seen}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A pod the restricted Pod Security level admits; kwok never runs it, so the image is never pulled.
const restrictedPod = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containers: [
      {
        name: "app",
        image: "registry.invalid/cluster-test:1",
        ports: [{ containerPort: 8080 }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        resources: {
          requests: { cpu: "10m", memory: "16Mi" },
          limits: { cpu: "100m", memory: "64Mi" },
        },
      },
    ],
  },
});

describe("local control plane (tools/cluster)", function () {
  this.timeout(600_000);
  const ns = `cluster-test-${Date.now().toString(36)}`;
  let kubeconfigPath = "";
  let api: ReturnType<typeof testApi>;
  let namespaceDeleted = false;

  before(function () {
    const up = script("up.sh");
    assert.equal(up.status, 0, `npm run cluster:up exited ${up.status}:\n${up.stdout}${up.stderr}`);
    const kc = script("kubeconfig.sh");
    assert.equal(kc.status, 0, `npm run cluster:kubeconfig exited ${kc.status}: ${kc.stderr}`);
    kubeconfigPath = kc.stdout.trim();
    api = testApi(kubeconfigPath);
  });

  after(async function () {
    if (!api) return;
    // A failure half-way still leaves no namespace behind for the next suite.
    if (!namespaceDeleted)
      await api.request("DELETE", `/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it("cluster:up is idempotent: a second run finds the cluster running and exits 0", function () {
    const again = script("up.sh");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already running/);
  });

  it("cluster:kubeconfig prints only the path of an existing kubeconfig with one context", function () {
    const kc = script("kubeconfig.sh");
    assert.equal(kc.status, 0, kc.stderr);
    assert.equal(kc.stderr, "");
    assert.match(
      kc.stdout,
      /^\/\S+\n$/,
      `expected one absolute path and a newline, got ${JSON.stringify(kc.stdout)}`,
    );
    const file = kc.stdout.trimEnd();
    assert.ok(existsSync(file) && statSync(file).isFile(), `${file} is not a file`);
    const doc = parseYaml(readFileSync(file, "utf8"));
    assert.deepEqual(
      doc.contexts.map((c: { name: string }) => c.name),
      [CONTEXT],
    );
    assert.equal(doc["current-context"], CONTEXT);
    assert.equal(doc.clusters.length, 1);
    assert.equal(doc.users.length, 1);
  });

  it("the API server is ready, the kwok Node is Ready, and default has its ServiceAccount", async function () {
    const ready = await api.get("/readyz");
    assert.equal(ready.body, "ok");
    const nodes = await api.get("/api/v1/nodes");
    const readyNodes = nodes.body.items.filter(
      (n: { status?: { conditions?: { type: string; status: string }[] } }) =>
        n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    assert.equal(
      readyNodes.length,
      1,
      `Ready nodes: ${JSON.stringify(nodes.body.items.map((n: { metadata: { name: string } }) => n.metadata.name))}`,
    );
    assert.equal((await api.get("/api/v1/namespaces/default/serviceaccounts/default")).status, 200);
    const ic = await api.get("/apis/networking.k8s.io/v1/ingressclasses/nginx");
    assert.equal(ic.status, 200, "IngressClass nginx is missing");
  });

  // Regression: without a Lease the node lifecycle controller took the node for dead after its
  // grace period and marked every pod unready; the engine suite's Deployments lost availability.
  it("the Node keeps a Lease that kwok renews, as a kubelet does", async function () {
    const nodes = await api.get("/api/v1/nodes");
    const name = nodes.body.items[0]?.metadata?.name as string;
    const lease = await api.get(
      `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`,
    );
    assert.equal(lease.status, 200, `node ${name} has no Lease in kube-node-lease`);
    const renewed = Date.parse(lease.body.spec.renewTime);
    const duration = Number(lease.body.spec.leaseDurationSeconds);
    assert.ok(duration > 0, "the Lease has a duration");
    assert.ok(
      Date.now() - renewed < duration * 1000,
      `the Lease was last renewed at ${lease.body.spec.renewTime}`,
    );
    const taints = (nodes.body.items[0]?.spec?.taints ?? []) as { key: string }[];
    assert.deepEqual(
      taints.filter((t) => t.key.startsWith("node.kubernetes.io/")),
      [],
      "no not-ready or unreachable taint",
    );
  });

  it("a namespace with Pod Security restricted gets its default ServiceAccount", async function () {
    await api.create("/api/v1/namespaces", {
      metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    await waitFor(`ServiceAccount default in ${ns}`, 60_000, async () =>
      (await api.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200
        ? true
        : undefined,
    );
  });

  it("Pod Security rejects a privileged pod in that namespace", async function () {
    const pod = restrictedPod({ app: "privileged" });
    const container = pod.spec.containers[0]!;
    const privileged = {
      ...pod,
      metadata: { name: "privileged" },
      spec: { ...pod.spec, containers: [{ ...container, securityContext: { privileged: true } }] },
    };
    const r = await api.request("POST", `/api/v1/namespaces/${ns}/pods`, privileged);
    assert.equal(
      r.status,
      403,
      `expected the pod to be forbidden, got HTTP ${r.status}: ${JSON.stringify(r.body)}`,
    );
    assert.match(r.body.message, /violates PodSecurity "restricted:latest"/);
    assert.match(r.body.message, /privileged/);
  });

  it("a Deployment of 2 replicas becomes Available, and its Service gets 2 ready endpoints", async function () {
    await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: restrictedPod({ app: "web" }),
      },
    });
    await api.create(`/api/v1/namespaces/${ns}/services`, {
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    let dep: Response | undefined;
    await waitFor(
      "Deployment web Available with 2 ready replicas",
      120_000,
      async () => {
        dep = await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
        const s = dep.body.status ?? {};
        const available = s.conditions?.some(
          (c: { type: string; status: string }) => c.type === "Available" && c.status === "True",
        );
        return available && s.readyReplicas === 2 && s.availableReplicas === 2 ? true : undefined;
      },
      () => dep?.body.status,
    );
    let slices: Response | undefined;
    await waitFor(
      "2 ready endpoints in Service web's EndpointSlices",
      60_000,
      async () => {
        slices = await api.get(
          `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent("kubernetes.io/service-name=web")}`,
        );
        const ready = (slices.body.items ?? []).flatMap(
          (s: { endpoints?: { conditions?: { ready?: boolean } }[] }) =>
            (s.endpoints ?? []).filter((e) => e.conditions?.ready === true),
        );
        return ready.length === 2 ? true : undefined;
      },
      () => slices?.body.items,
    );
  });

  it("a Job completes", async function () {
    await api.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      metadata: { name: "once" },
      spec: {
        backoffLimit: 0,
        template: {
          ...restrictedPod({ app: "once" }),
          spec: { ...restrictedPod({}).spec, restartPolicy: "Never" },
        },
      },
    });
    let job: Response | undefined;
    await waitFor(
      "Job once Complete with 1 succeeded",
      120_000,
      async () => {
        job = await api.get(`/apis/batch/v1/namespaces/${ns}/jobs/once`);
        const s = job.body.status ?? {};
        const complete = s.conditions?.some(
          (c: { type: string; status: string }) => c.type === "Complete" && c.status === "True",
        );
        return complete && s.succeeded === 1 ? true : undefined;
      },
      () => job?.body.status,
    );
  });

  it("a ResourceQuota gets status.used", async function () {
    await api.create(`/api/v1/namespaces/${ns}/resourcequotas`, {
      metadata: { name: "quota" },
      spec: { hard: { pods: "20", "requests.cpu": "2", "limits.memory": "2Gi" } },
    });
    let q: Response | undefined;
    await waitFor(
      "ResourceQuota quota's status.used",
      60_000,
      async () => {
        q = await api.get(`/api/v1/namespaces/${ns}/resourcequotas/quota`);
        const used = q.body.status?.used;
        return used && used.pods !== undefined && used["requests.cpu"] !== undefined
          ? used
          : undefined;
      },
      () => q?.body.status,
    );
    // The Deployment's 2 pods run (the Job's has Succeeded and no longer counts).
    assert.equal(q!.body.status.used.pods, "2");
  });

  it("a class-less 1Gi claim binds to a PersistentVolume, which is reusable once the claim is gone", async function () {
    await api.create(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name: "data" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    let pvc: Response | undefined;
    const volume = await waitFor(
      "PersistentVolumeClaim data Bound",
      60_000,
      async () => {
        pvc = await api.get(`/api/v1/namespaces/${ns}/persistentvolumeclaims/data`);
        return pvc.body.status?.phase === "Bound"
          ? (pvc.body.spec.volumeName as string)
          : undefined;
      },
      () => pvc?.body.status,
    );
    const pv = await api.get(`/api/v1/persistentvolumes/${volume}`);
    assert.equal(pv.body.spec.claimRef?.name, "data");
    assert.equal(pv.body.spec.claimRef?.namespace, ns);

    assert.equal(
      (await api.request("DELETE", `/api/v1/namespaces/${ns}/persistentvolumeclaims/data`)).status,
      200,
    );
    let after: Response | undefined;
    await waitFor(
      `PersistentVolume ${volume} Available again after its claim was deleted`,
      60_000,
      async () => {
        after = await api.get(`/api/v1/persistentvolumes/${volume}`);
        return after.body.status?.phase === "Available" && !after.body.spec.claimRef
          ? true
          : undefined;
      },
      () => ({ phase: after?.body.status?.phase, claimRef: after?.body.spec?.claimRef }),
    );
  });

  it("an Ingress of class nginx gets status.loadBalancer.ingress", async function () {
    await api.create(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, {
      metadata: { name: "web" },
      spec: {
        ingressClassName: "nginx",
        rules: [
          {
            host: "cluster-test.local",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    let ing: Response | undefined;
    const lb = await waitFor(
      "Ingress web's status.loadBalancer.ingress",
      60_000,
      async () => {
        ing = await api.get(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/web`);
        return ing.body.status?.loadBalancer?.ingress;
      },
      () => ing?.body.status,
    );
    assert.deepEqual(lb, [{ ip: "127.0.0.1" }]);
  });

  it("deleting the namespace completes within 60s (the namespace controller finalizes it)", async function () {
    const del = await api.request("DELETE", `/api/v1/namespaces/${ns}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    let last: Response | undefined;
    await waitFor(
      `namespace ${ns} gone`,
      60_000,
      async () => {
        last = await api.get(`/api/v1/namespaces/${ns}`);
        return last.status === 404 ? true : undefined;
      },
      () => last?.body.status,
    );
    namespaceDeleted = true;
  });
});

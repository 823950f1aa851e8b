/**
 * The app host (tools/local/appHost.ts) runs the real reference app, as a process, from what a
 * Deployment's pod template says. The API it reads is an in-memory stand-in here (the engine
 * suite runs it against the real API server); what is tested is the host's own logic: which
 * template it runs, with what, and that a new template replaces the old process at once.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../model/paths";
import { AppHost } from "../../tools/local/appHost";
import type { KubeApi } from "../../tools/local/kube";
import { freePort } from "../../tools/local/postgres";
import { PRELOAD } from "../e2e/brokenRelease";

const CODE = readFileSync(path.join(REPO_ROOT, "app", "server.js"), "utf8");

function deployment(image: string, version: string) {
  return {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "app",
              image,
              command: ["node", "/app/server.js"],
              env: [
                { name: "PORT", value: "8080" },
                { name: "APP_ENV", value: "dev" },
                { name: "APP_VERSION", value: version },
                { name: "DB_HOST", value: "app-db.app-dev.svc" },
                { name: "FLAGS_FILE", value: "/etc/app/flags.json" },
              ],
              volumeMounts: [
                { name: "code", mountPath: "/app" },
                { name: "flags", mountPath: "/etc/app" },
              ],
            },
          ],
          volumes: [
            { name: "code", configMap: { name: "code-1" } },
            { name: "flags", configMap: { name: "flags-1" } },
          ],
        },
      },
    },
  };
}

/** An in-memory API server holding one Deployment and its two ConfigMaps. */
function memoryApi(objects: Map<string, unknown>): KubeApi {
  return {
    context: "memory",
    server: "memory://",
    async request() {
      throw new Error("not used");
    },
    async get<T>(apiPath: string) {
      return objects.get(apiPath) as T | undefined;
    },
    async list() {
      return [];
    },
  };
}

async function getJson(port: number, p: string, method = "GET"): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method,
    ...(method === "POST" ? { body: '{"test":true}', headers: { "content-type": "application/json" } } : {}),
  });
  return res.json();
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what} within ${ms} ms`);
}

describe("tools/local/appHost: the app's process on simulated pods", function () {
  this.timeout(30_000);
  let dir: string;
  let host: AppHost;
  let port: number;
  const objects = new Map<string, unknown>();
  const D = "/apis/apps/v1/namespaces/app-dev/deployments/app";

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "app-host-"));
    port = await freePort();
    objects.set("/api/v1/namespaces/app-dev/configmaps/code-1", { data: { "server.js": CODE } });
    objects.set("/api/v1/namespaces/app-dev/configmaps/flags-1", { data: { "flags.json": '{"checkout-v2":true}' } });
    objects.set(D, deployment("node:24-alpine", "1.0.0"));
    host = new AppHost({
      api: memoryApi(objects),
      namespace: "app-dev",
      deployment: "app",
      port,
      database: { host: "127.0.0.1", port: 1 },
      dir,
      images: { "broken:1": { preload: PRELOAD } },
      pollMs: 50,
    });
    host.start();
  });

  after(async function () {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the template's code, version and flags on its own port", async function () {
    await until("the app answers", async () => ((await getJson(port, "/api/version")) as { version: string }).version === "1.0.0");
    assert.deepEqual(await getJson(port, "/api/flags"), { "checkout-v2": true });
    assert.equal(((await getJson(port, "/api/test-action", "POST")) as { success: boolean }).success, true);
  });

  it("replaces the process at once when the template changes, adding what the image adds", async function () {
    objects.set(D, deployment("broken:1", "1.0.0"));
    const changed = Date.now();
    await until(
      "the broken image's critical action fails",
      async () => ((await getJson(port, "/api/test-action", "POST")) as { success: boolean }).success === false,
      2000,
    );
    assert.ok(Date.now() - changed < 2000);
    assert.equal(host.image, "broken:1");
    // Nothing but the new template answers from then on.
    for (let i = 0; i < 20; i++) {
      assert.equal(((await getJson(port, "/api/test-action", "POST")) as { success: boolean }).success, false);
    }
  });

  it("stops the app when the Deployment is gone", async function () {
    objects.delete(D);
    await until("the port is closed", async () => {
      try {
        await getJson(port, "/healthz");
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(host.image, undefined);
  });
});

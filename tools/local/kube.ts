/**
 * A small Kubernetes API client for the local control plane: its kubeconfig's current context,
 * client-certificate authentication, JSON in and out. There is no kubectl on this machine, and the
 * local tools need only a few reads and writes, so this is plain node:https rather than another
 * dependency.
 */
import { readFileSync } from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface KubeApi {
  /** The context this client talks to: the only one it ever uses. */
  context: string;
  server: string;
  request<T = unknown>(method: string, apiPath: string, body?: unknown): Promise<KubeResponse<T>>;
  /** GET that returns undefined for 404. */
  get<T = unknown>(apiPath: string): Promise<T | undefined>;
  /** The items of a list. */
  list<T = unknown>(apiPath: string): Promise<T[]>;
}

export interface KubeResponse<T> {
  status: number;
  body: T;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}

type Kubeconfig = {
  "current-context"?: string;
  contexts?: Named<unknown>[];
  clusters?: Named<unknown>[];
  users?: Named<unknown>[];
};

function pick(list: Named<unknown>[] | undefined, name: string, kind: string, file: string) {
  const found = list?.find((e) => e.name === name);
  if (!found) throw new Error(`${file}: no ${kind} named "${name}"`);
  return found[kind] as Record<string, string | undefined>;
}

/** Bytes of a `<field>-data` (base64) or a `<field>` (path, relative to the kubeconfig). */
function material(
  entry: Record<string, string | undefined>,
  field: string,
  file: string,
): Buffer | undefined {
  const data = entry[`${field}-data`];
  if (data) return Buffer.from(data, "base64");
  const rel = entry[field];
  return rel ? readFileSync(path.resolve(path.dirname(file), rel)) : undefined;
}

export function kubeApi(kubeconfigPath: string): KubeApi {
  const doc = parseYaml(readFileSync(kubeconfigPath, "utf8")) as Kubeconfig;
  const context = doc["current-context"];
  if (!context) throw new Error(`${kubeconfigPath}: no current-context`);
  const ctx = pick(doc.contexts, context, "context", kubeconfigPath);
  const cluster = pick(doc.clusters, ctx.cluster ?? "", "cluster", kubeconfigPath);
  const user = pick(doc.users, ctx.user ?? "", "user", kubeconfigPath);
  const server = cluster.server;
  if (!server) throw new Error(`${kubeconfigPath}: cluster of context "${context}" has no server`);
  const agent = new https.Agent({
    ca: material(cluster, "certificate-authority", kubeconfigPath),
    cert: material(user, "client-certificate", kubeconfigPath),
    key: material(user, "client-key", kubeconfigPath),
    keepAlive: false,
  });

  const request = <T>(method: string, apiPath: string, body?: unknown): Promise<KubeResponse<T>> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const contentType = method === "PATCH" ? "application/merge-patch+json" : "application/json";
      const req = https.request(
        new URL(apiPath, server),
        {
          method,
          agent,
          headers: {
            accept: "application/json",
            ...(payload
              ? { "content-type": contentType, "content-length": Buffer.byteLength(payload) }
              : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = text === "" ? undefined : JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz): keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${apiPath}: no answer in 30 s`)));
      req.on("error", reject);
      req.end(payload);
    });

  return {
    context,
    server,
    request,
    async get<T>(apiPath: string) {
      const r = await request<T>("GET", apiPath);
      if (r.status === 404) return undefined;
      if (r.status >= 300) throw new Error(`GET ${apiPath}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async list<T>(apiPath: string) {
      const r = await request<{ items?: T[] }>("GET", apiPath);
      if (r.status >= 300) throw new Error(`GET ${apiPath}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.items ?? [];
    },
  };
}

/**
 * Test support for the smoke resource: the provider as the engine holds it (the `__provider` text
 * captured under the SDK's mocks, loaded as the dynamic-provider host loads it), real HTTP(S)
 * servers on loopback, certificates made with openssl, and a canary secret to look for.
 */
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { SmokeTestArgs } from "../../components/smokeTest";
import { PROJECT } from "../../model/config/environmentConfig";
import { urnName } from "../../model/urn";
import { promiseOf } from "../support/program";
import { makeCertificates } from "./certificates";

export const SMOKE_RUN_TYPE = "pulumi-nodejs:dynamic/env-progression:SmokeRun";
export const SMOKE_TEST_TYPE = "env-progression:smoke:SmokeTest";

/** A secret header value: it must never appear in an output, an error, a log or a report. */
export const CANARY = `canary-smoke-${randomBytes(6).toString("hex")}`;
export const TOKEN_HEADER = "X-Smoke-Token";

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = Record<string, any>;

/** The dynamic provider as the host sees it: plain inputs, plain outputs. */
export interface LoadedProvider {
  check(
    olds: Json,
    news: Json,
  ): Promise<{ inputs?: Json; failures?: { property: string; reason: string }[] }>;
  diff(id: string, olds: Json, news: Json): Promise<{ changes?: boolean; replaces?: string[] }>;
  create(inputs: Json): Promise<{ id: string; outs: Json }>;
  update(id: string, olds: Json, news: Json): Promise<{ outs: Json }>;
}

export interface Registered {
  type: string;
  name: string;
  inputs: Json;
  parent: string;
  dependsOn: string[];
}

export function isSecretValue(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Json)[specialSigKey] === specialSecretSig
  );
}

export function unsecret(value: unknown): unknown {
  return isSecretValue(value) ? (value as Json).value : value;
}

/** Stands in for the workload the smoke test waits for. */
class Rollout extends pulumi.CustomResource {
  constructor(name: string) {
    super("kubernetes:apps/v1:Deployment", name, {});
  }
}

/**
 * The version the mocked run reports. Not TYPICAL_ARGS.expectVersion on purpose: a component that
 * echoed the version it was told to expect, instead of the one its run saw, would then still pass.
 */
export const RUN_REPORTED_VERSION = "1.4.0-reported-by-run";

/**
 * Builds a SmokeTest under the SDK's in-process mocks and returns what the program registered, as
 * the engine would receive it (inputs on the wire, parents and dependencies from the requests).
 */
export async function registerSmokeTest(
  args: SmokeTestArgs,
  options: { preview?: boolean; withDependency?: boolean } = {},
): Promise<{
  resources: Registered[];
  verifiedVersion: unknown;
  checks: unknown;
  secretOutputs: string[];
}> {
  const resources: Registered[] = [];
  const requests = new Map<string, { parent: string; deps: string[] }>();
  await pulumi.runtime.setMocks(
    {
      newResource(a: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: a.type, name: a.name, inputs: a.inputs, parent: "", dependsOn: [] });
        const state: Json = { ...a.inputs };
        if (a.type === SMOKE_RUN_TYPE) {
          state.verifiedVersion = RUN_REPORTED_VERSION;
          state.results = [{ name: "health", ok: true, latencyMs: 3, status: 200 }];
        }
        return { id: `${a.name}-id`, state };
      },
      call() {
        throw new Error("no invokes expected");
      },
    },
    PROJECT,
    "smoke-test",
    options.preview ?? false,
  );
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (
    req: { getName(): string; getParent(): string; getDependenciesList(): string[] },
    cb: unknown,
  ) => {
    requests.set(req.getName(), {
      parent: urnName(req.getParent()),
      deps: req.getDependenciesList().map(urnName),
    });
    return register(req, cb);
  };
  const { SmokeTest } = await import("../../components/smokeTest");
  const opts: pulumi.ComponentResourceOptions = {};
  if (options.withDependency === true) {
    opts.dependsOn = [new Rollout("app")];
  }
  // A closure that cannot be serialized surfaces as an unhandled rejection, and the outputs never
  // resolve: turn it into this registration's failure instead of a test timeout.
  let onFailure: (err: unknown) => void = () => {};
  const failure = new Promise<never>((_resolve, reject) => (onFailure = reject));
  process.on("unhandledRejection", onFailure);
  let verifiedVersion: unknown;
  let checks: unknown;
  const secretOutputs: string[] = [];
  try {
    const smoke = new SmokeTest("staging-smoke", args, opts);
    [verifiedVersion, checks] = await Promise.race([
      Promise.all([promiseOf(smoke.verifiedVersion), promiseOf(smoke.checks)]),
      failure,
    ]);
    if (await pulumi.isSecret(smoke.verifiedVersion)) secretOutputs.push("verifiedVersion");
    if (await pulumi.isSecret(smoke.checks)) secretOutputs.push("checks");
    await Promise.race([settings.waitForRPCs(), failure]);
  } finally {
    process.off("unhandledRejection", onFailure);
  }
  for (const r of resources) {
    const req = requests.get(r.name);
    r.parent = req?.parent ?? "";
    r.dependsOn = req?.deps ?? [];
  }
  return { resources, verifiedVersion, checks, secretOutputs };
}

/** What the component registers for a typical stack: the shape the provider gets. */
export const TYPICAL_ARGS: SmokeTestArgs = {
  baseUrl: "https://staging.example.com",
  expectVersion: "1.4.0",
  headers: { [TOKEN_HEADER]: pulumi.secret(CANARY) },
};

let captured: Promise<{ text: string; inputs: Json }> | undefined;

/** The `__provider` text and the inputs the component registers, captured once. */
export function capturedProvider(): Promise<{ text: string; inputs: Json }> {
  captured ??= registerSmokeTest(TYPICAL_ARGS).then(({ resources }) => {
    const run = resources.find((r) => r.type === SMOKE_RUN_TYPE);
    if (run === undefined) throw new Error("the SmokeTest registered no SmokeRun");
    const text = unsecret(run.inputs.__provider);
    if (typeof text !== "string") throw new Error("__provider is not a string");
    return { text, inputs: run.inputs };
  });
  return captured;
}

/** Exactly as @pulumi/pulumi/cmd/dynamic-provider loads it: requireFromString(text).handler(). */
export function loadProvider(text: string): LoadedProvider {
  const requireFromString = require("require-from-string") as (code: string) => {
    handler(): LoadedProvider;
  };
  return requireFromString(text).handler();
}

/**
 * Provider inputs as the host passes them to create/diff/update: the registered inputs with the
 * secrets unwrapped (the host does that), pointed at `baseUrl`, with short timeouts for tests.
 */
export async function providerInputs(baseUrl: string, overrides: Json = {}): Promise<Json> {
  const { inputs } = await capturedProvider();
  const plain: Json = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (k === "__provider" || v === undefined) continue;
    plain[k] = unsecret(v);
  }
  return { ...plain, baseUrl, requestTimeoutMs: 400, deadlineMs: 2000, ...overrides };
}

export interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  url: string;
  port: number;
  hits: Hit[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void;

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return sockets;
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** An HTTP (or, with `tls`, HTTPS) server on 127.0.0.1 that records every request. */
export async function startServer(
  handler: Handler,
  tls?: { key: string; cert: string },
  port = 0,
): Promise<TestServer> {
  const hits: Hit[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    hits.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    handler(req, res, hits.length);
  };
  const server =
    tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest);
  const sockets = track(server);
  const bound = await listen(server, port);
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${bound}`,
    port: bound,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts connections and never answers: the target that stops answering. */
export async function startSilentServer(): Promise<TestServer & { connections: () => number }> {
  const server = net.createServer(() => {});
  const sockets = track(server);
  let count = 0;
  server.on("connection", () => count++);
  const port = await listen(server, 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits: [],
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on (for now). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export interface AppState {
  version?: unknown;
  connected?: boolean;
  success?: boolean;
}

/** The smoke contract's four endpoints, like app/server.js, with answers chosen per test. */
export function contractApp(state: AppState | ((hit: number) => AppState) = {}): Handler {
  return (req, res, hit) => {
    const s = typeof state === "function" ? state(hit) : state;
    const route = `${req.method} ${(req.url ?? "").split("?")[0]}`;
    switch (route) {
      case "GET /healthz":
        return sendJson(res, 200, { status: "ok" });
      case "GET /api/version":
        return sendJson(res, 200, { version: "version" in s ? s.version : "1.4.0", commit: "abc" });
      case "GET /api/db-status":
        return sendJson(res, 200, {
          connected: s.connected ?? true,
          reason: s.connected === false ? "connection refused" : undefined,
        });
      case "POST /api/test-action": {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          const ok = body.includes('"test"');
          sendJson(res, ok ? 200 : 400, { success: ok && (s.success ?? true) });
        });
        return undefined;
      }
      default:
        return sendJson(res, 404, { error: `no route for ${route}` });
    }
  };
}

export interface Certificates {
  caPem: string;
  key: string;
  cert: string;
  /** A certificate for 127.0.0.1 signed by nobody: its own CA. */
  selfSigned: { key: string; cert: string };
}

let certs: Certificates | undefined;

/** A throw-away CA and certificates for 127.0.0.1 (test/smoke/certificates.ts), made once. */
export function certificates(): Certificates {
  if (certs !== undefined) return certs;
  const dir = mkdtempSync(path.join(tmpdir(), "smoke-certs-"));
  try {
    const files = makeCertificates(dir);
    const read = (file: string): string => readFileSync(file, "utf8");
    certs = {
      caPem: read(files.ca),
      key: read(files.serverKey),
      cert: read(files.serverCert),
      selfSigned: { key: read(files.selfKey), cert: read(files.selfCert) },
    };
    return certs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Everything written to stdout and stderr while `fn` runs (still written through). */
export async function capturingOutput<T>(
  fn: () => Promise<T>,
): Promise<{ value?: T; error?: Error; output: string }> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tap =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString());
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tap(out) as typeof process.stdout.write;
  process.stderr.write = tap(err) as typeof process.stderr.write;
  try {
    return { value: await fn(), output: chunks.join("") };
  } catch (e) {
    return { error: e as Error, output: chunks.join("") };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

export function elapsedSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

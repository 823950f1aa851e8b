/**
 * Drives a CrossGuard policy pack exactly as the Pulumi engine does, without the CLI: the tests and
 * `verify` share it.
 *
 * What the engine does (pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
 * NewPolicyAnalyzer; sdk/nodejs/dist/pulumi-analyzer-policy; pkg/engine plugins.go):
 * 1. starts `pulumi-analyzer-policy <engine address> .` in the pack's directory, a script that
 *    resolves '@pulumi/pulumi/cmd/run-policy-pack' from there and runs it with node, with the
 *    environment PULUMI_CONFIG (the stack's decrypted config as JSON), PULUMI_[NODEJS_]STACK,
 *    _PROJECT, _ORGANIZATION, _DRY_RUN; PulumiPolicy.yaml's runtime options become `-k=v` args;
 * 2. reads the port the pack prints on stdout, and treats every further stdout/stderr line as a
 *    diagnostic of the run;
 * 3. Handshake (UNIMPLEMENTED in @pulumi/policy 1.21: tolerated), ConfigureStack (stack, project,
 *    organization, tags, dry run, config, secret keys), GetAnalyzerInfo, GetPluginInfo, Configure
 *    (every policy, with its default enforcement level and schema defaults, overridden by
 *    --policy-pack-config: pkg/resource/plugin/policy.go ReconcilePolicyPackConfig);
 * 4. Analyze for each resource registration (its inputs), AnalyzeStack at the end (every resource's
 *    outputs, with parent, dependencies and provider). Properties go as a protobuf Struct with
 *    secrets as signature objects and unknowns as sentinel strings, internal `__` keys skipped;
 *    every request carries resource options (the pack refuses requests without them: "A more
 *    recent version of the Pulumi CLI is required").
 *
 * The engine address given to the pack is a real Engine gRPC server run here (Log captured). The
 * 1.21 pack never dials it (run-policy-pack drops the argument, and the engine does not set
 * PULUMI_NODEJS_ENGINE for analyzers), so the pack's own output reaches the user through its stdout
 * and stderr, which are captured too: canary checks read all three.
 */
import * as grpc from "@grpc/grpc-js";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import * as structPb from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";

export const PACK_DIR = path.resolve(__dirname, "..", "policies");
export const MAX_MESSAGE = 1024 * 1024 * 400;

// ---------------------------------------------------------------------------------------------
// The engine side: a real Engine service, so the pack has an address to (not) call.

export interface EngineLogLine {
  severity: number;
  message: string;
  urn: string;
}

export class EngineServer {
  readonly logs: EngineLogLine[] = [];
  private server = new grpc.Server();
  private starting: Promise<string> | undefined;
  address = "";

  /** Starts once; later calls return the same address. */
  start(): Promise<string> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<string> {
    const empty = () => new emptyPb.Empty();
    this.server.addService(engineGrpc.EngineService, {
      log: (
        call: grpc.ServerUnaryCall<enginePb.LogRequest, emptyPb.Empty>,
        cb: grpc.sendUnaryData<emptyPb.Empty>,
      ) => {
        const r = call.request;
        this.logs.push({ severity: r.getSeverity(), message: r.getMessage(), urn: r.getUrn() });
        cb(null, empty());
      },
      getRootResource: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      setRootResource: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      startDebugging: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      requirePulumiVersion: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// What the engine sends.

export interface AnalyzerProvider {
  urn: string;
  type: string;
  name: string;
  properties: Record<string, unknown>;
}

export interface AnalyzerOptions {
  protect?: boolean;
  ignoreChanges?: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  aliases?: string[];
  customTimeouts?: { create: number; update: number; delete: number };
  parent?: string;
}

/** One resource as the engine describes it to an analyzer. */
export interface AnalyzerResourceInput {
  urn: string;
  type: string;
  name: string;
  /** Wire-format properties: secrets as signature objects, unknowns as sentinel strings. */
  properties: Record<string, unknown>;
  options: AnalyzerOptions;
  provider?: AnalyzerProvider;
  /** AnalyzeStack only. */
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

/** MarshalProperties(SkipInternalKeys): top-level keys starting with "__" are not sent. */
function wireStruct(props: Record<string, unknown>): structPb.Struct {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("__") || v === undefined) continue;
    clean[k] = dropUndefined(v);
  }
  return structPb.Struct.fromJavaScript(clean as Record<string, structPb.JavaScriptValue>);
}

function dropUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : dropUndefined(x)));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x);
    return out;
  }
  return v;
}

function optionsPb(o: AnalyzerOptions): analyzerPb.AnalyzerResourceOptions {
  const opts = new analyzerPb.AnalyzerResourceOptions();
  opts.setProtect(o.protect ?? false);
  opts.setIgnorechangesList(o.ignoreChanges ?? []);
  opts.setDeletebeforereplace(o.deleteBeforeReplace ?? false);
  opts.setDeletebeforereplacedefined(o.deleteBeforeReplace !== undefined);
  opts.setAdditionalsecretoutputsList(o.additionalSecretOutputs ?? []);
  opts.setAliasesList(o.aliases ?? []);
  const t = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts();
  t.setCreate(o.customTimeouts?.create ?? 0);
  t.setUpdate(o.customTimeouts?.update ?? 0);
  t.setDelete(o.customTimeouts?.delete ?? 0);
  opts.setCustomtimeouts(t);
  opts.setParent(o.parent ?? "");
  return opts;
}

function providerPb(p: AnalyzerProvider): analyzerPb.AnalyzerProviderResource {
  const out = new analyzerPb.AnalyzerProviderResource();
  out.setUrn(p.urn);
  out.setType(p.type);
  out.setName(p.name);
  out.setProperties(wireStruct(p.properties));
  return out;
}

export function analyzeRequest(r: AnalyzerResourceInput): analyzerPb.AnalyzeRequest {
  const req = new analyzerPb.AnalyzeRequest();
  req.setUrn(r.urn);
  req.setType(r.type);
  req.setName(r.name);
  req.setProperties(wireStruct(r.properties));
  req.setOptions(optionsPb(r.options));
  if (r.provider) req.setProvider(providerPb(r.provider));
  return req;
}

export function stackResource(r: AnalyzerResourceInput): analyzerPb.AnalyzerResource {
  const out = new analyzerPb.AnalyzerResource();
  out.setUrn(r.urn);
  out.setType(r.type);
  out.setName(r.name);
  out.setProperties(wireStruct(r.properties));
  out.setOptions(optionsPb(r.options));
  if (r.provider) out.setProvider(providerPb(r.provider));
  out.setParent(r.parent ?? "");
  out.setDependenciesList(r.dependencies ?? []);
  const deps = out.getPropertydependenciesMap();
  for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
    if (urns.length === 0) continue;
    const d = new analyzerPb.AnalyzerPropertyDependencies();
    d.setUrnsList(urns);
    deps.set(k, d);
  }
  return out;
}

export function analyzeStackRequest(
  resources: readonly AnalyzerResourceInput[],
): analyzerPb.AnalyzeStackRequest {
  const req = new analyzerPb.AnalyzeStackRequest();
  req.setResourcesList(resources.map(stackResource));
  return req;
}

// ---------------------------------------------------------------------------------------------
// What the pack answers.

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_PB: Record<EnforcementLevel, analyzerPb.EnforcementLevel> = {
  advisory: analyzerPb.EnforcementLevel.ADVISORY,
  mandatory: analyzerPb.EnforcementLevel.MANDATORY,
  disabled: analyzerPb.EnforcementLevel.DISABLED,
  remediate: analyzerPb.EnforcementLevel.REMEDIATE,
};

export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  message: string;
  enforcementLevel: EnforcementLevel;
  urn: string;
}

export interface AnalyzeResult {
  diagnostics: Diagnostic[];
  notApplicable: { policyName: string; reason: string }[];
}

function decode(resp: analyzerPb.AnalyzeResponse): AnalyzeResult {
  return {
    diagnostics: resp.getDiagnosticsList().map((d) => ({
      policyName: d.getPolicyname(),
      policyPackName: d.getPolicypackname(),
      policyPackVersion: d.getPolicypackversion(),
      description: d.getDescription(),
      message: d.getMessage(),
      enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
      urn: d.getUrn(),
    })),
    notApplicable: resp
      .getNotApplicableList()
      .map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() })),
  };
}

export interface PolicyInfo {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  type: "resource" | "stack" | "unknown";
  configSchema?: { properties: Record<string, Record<string, unknown>>; required: string[] };
}

export interface PackInfo {
  name: string;
  version: string;
  supportsConfig: boolean;
  policies: PolicyInfo[];
}

/** The `--policy-pack-config` document: policy name -> level, or {enforcementLevel?, ...properties}. */
export type PolicyPackConfigFile = Record<string, unknown>;

/**
 * The engine's policy config for a pack: every policy at its default level with its schema's
 * defaults, then the file's values over them (ReconcilePolicyPackConfig), checked against each
 * policy's schema as the CLI checks it (required properties, object types).
 */
export function reconcilePolicyConfig(
  info: PackInfo,
  file: PolicyPackConfigFile = {},
): {
  config: Record<
    string,
    { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }
  >;
  errors: string[];
} {
  const errors: string[] = [];
  const config: Record<
    string,
    { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }
  > = {};
  const byName = new Map(info.policies.map((p) => [p.name, p]));
  for (const p of info.policies) {
    const properties: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(p.configSchema?.properties ?? {}))
      if ("default" in s) properties[k] = s.default;
    config[p.name] = { enforcementLevel: p.enforcementLevel, properties };
  }
  for (const [name, value] of Object.entries(file)) {
    const target = name === "all" ? [...byName.keys()] : [name];
    if (name !== "all" && !byName.has(name)) {
      errors.push(`policy pack config: "${name}" is not a policy of ${info.name}`);
      continue;
    }
    for (const t of target) {
      const c = config[t] as {
        enforcementLevel: EnforcementLevel;
        properties: Record<string, unknown>;
      };
      if (typeof value === "string") c.enforcementLevel = value as EnforcementLevel;
      else if (value !== null && typeof value === "object") {
        const { enforcementLevel, ...props } = value as Record<string, unknown>;
        if (typeof enforcementLevel === "string")
          c.enforcementLevel = enforcementLevel as EnforcementLevel;
        Object.assign(c.properties, props);
      }
    }
  }
  for (const [name, c] of Object.entries(config)) {
    if (!(c.enforcementLevel in LEVEL_PB))
      errors.push(
        `policy pack config: ${name}: enforcementLevel must be advisory, mandatory, remediate or disabled`,
      );
    const schema = byName.get(name)?.configSchema;
    for (const req of schema?.required ?? [])
      if (!(req in c.properties)) errors.push(`policy pack config: ${name}: ${req} is required`);
    for (const [k, s] of Object.entries(schema?.properties ?? {})) {
      const v = c.properties[k];
      if (v === undefined || s.type === undefined) continue;
      const actual = Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
      if (
        s.type === "object"
          ? actual !== "object"
          : s.type === "integer"
            ? !Number.isInteger(v)
            : actual !== s.type
      ) {
        errors.push(`policy pack config: ${name}: ${k} must be of type ${String(s.type)}`);
      }
    }
  }
  return { config, errors };
}

// ---------------------------------------------------------------------------------------------
// The pack process.

export interface StackContext {
  stack: string;
  project: string;
  organization?: string;
  dryRun: boolean;
  /** The stack's config, "namespace:key" -> value text, as the engine decrypted it. */
  config: Record<string, string>;
  configSecretKeys: string[];
  /** The stack's tags (pulumi:project, pulumi:runtime, pulumi:description, and the user's). */
  tags: Record<string, string>;
}

export interface StartOptions extends StackContext {
  packDir?: string;
  /** The --policy-pack-config document. */
  policyConfig?: PolicyPackConfigFile;
  /** Extra environment for the pack process. */
  env?: Record<string, string>;
  /** Timeout for the pack to print its port. */
  startTimeoutMs?: number;
  /**
   * false: load the pack without TypeScript's type check (tools/packHost.cjs), which saves about
   * 2.5 s of CPU per start. Default true: the engine's own host, run-policy-pack, which type-checks.
   */
  typeCheck?: boolean;
}

function call<Req, Res>(
  client: analyzerGrpc.AnalyzerClient,
  method: (
    req: Req,
    md: grpc.Metadata,
    opts: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: Res) => void,
  ) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 600_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The resolved `run-policy-pack` module, as the `pulumi-analyzer-policy` script resolves it from the pack's directory. */
export function runPolicyPackScript(packDir: string): string {
  return require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
}

/** PulumiPolicy.yaml's runtime options, which the engine passes as `-key=value` arguments. */
function runtimeOptionArgs(packDir: string): string[] {
  const file = path.join(packDir, "PulumiPolicy.yaml");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(`${file} cannot be read; a policy pack directory needs PulumiPolicy.yaml`);
  }
  const doc = require("yaml").parse(text) as {
    runtime?: string | { name?: string; options?: Record<string, unknown> };
  };
  const runtime = typeof doc.runtime === "string" ? { name: doc.runtime } : (doc.runtime ?? {});
  if (runtime.name !== "nodejs")
    throw new Error(`${file}: runtime must be nodejs for this harness`);
  return Object.entries(("options" in runtime ? runtime.options : undefined) ?? {})
    .map(([k, v]) => `-${k}=${String(v)}`)
    .filter((a) => !a.endsWith("="));
}

export class PolicyPackProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  info!: PackInfo;
  pluginVersion = "";
  configErrors: string[] = [];
  private exitCode: number | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: analyzerGrpc.AnalyzerClient,
    readonly engine: EngineServer,
    private readonly ownEngine: boolean,
  ) {
    child.on("exit", (code) => (this.exitCode = code));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Every line the pack wrote (stdout after the port, stderr) and every Engine.Log message. */
  output(): string[] {
    return [...this.stdout, ...this.stderr, ...this.engine.logs.map((l) => l.message)];
  }

  static async start(opts: StartOptions, engine?: EngineServer): Promise<PolicyPackProcess> {
    const packDir = opts.packDir ?? PACK_DIR;
    const ownEngine = engine === undefined;
    const eng = engine ?? new EngineServer();
    await eng.start();
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    // constructEnv: config, then the PULUMI_NODEJS_* and PULUMI_* run variables.
    if (Object.keys(opts.config).length > 0) env.PULUMI_CONFIG = JSON.stringify(opts.config);
    const run: Record<string, string | undefined> = {
      ORGANIZATION: opts.organization,
      PROJECT: opts.project,
      STACK: opts.stack,
      DRY_RUN: String(opts.dryRun),
    };
    for (const [k, v] of Object.entries(run)) {
      if (v === undefined || v === "") continue;
      env[`PULUMI_NODEJS_${k}`] = v;
      env[`PULUMI_${k}`] = v;
    }
    Object.assign(env, opts.env ?? {});
    const host =
      opts.typeCheck === false
        ? path.join(__dirname, "packHost.cjs")
        : runPolicyPackScript(packDir);
    const child = spawn(process.execPath, [host, eng.address, ".", ...runtimeOptionArgs(packDir)], {
      cwd: packDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      let buf = "";
      let got = false;
      const timer = setTimeout(() => {
        child.kill();
        reject(
          new Error(
            `the policy pack in ${packDir} did not print its port within ${opts.startTimeoutMs ?? 120_000} ms:\n${stderr.join("\n")}`,
          ),
        );
      }, opts.startTimeoutMs ?? 120_000);
      const lines = (chunk: Buffer, into: string[], first: boolean) => {
        buf += chunk.toString("utf8");
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        for (const line of parts) {
          if (first && !got) {
            const n = Number(line.trim());
            if (Number.isInteger(n) && n > 0) {
              got = true;
              clearTimeout(timer);
              resolve(n);
              continue;
            }
          }
          into.push(line);
        }
      };
      child.stdout?.on("data", (c: Buffer) => lines(c, stdout, true));
      let errBuf = "";
      child.stderr?.on("data", (c: Buffer) => {
        errBuf += c.toString("utf8");
        const parts = errBuf.split("\n");
        errBuf = parts.pop() ?? "";
        stderr.push(...parts);
      });
      child.on("exit", (code) => {
        if (!got) {
          clearTimeout(timer);
          reject(
            new Error(
              `the policy pack in ${packDir} exited (${code}) before printing its port:\n${[...stdout, ...stderr].join("\n")}`,
            ),
          );
        }
      });
    }).catch(async (err: unknown) => {
      // The engine this call started must not outlive a pack that never came up.
      if (ownEngine) await eng.close();
      throw err;
    });
    const client = new analyzerGrpc.AnalyzerClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
      {
        "grpc.max_receive_message_length": MAX_MESSAGE,
        "grpc.max_send_message_length": MAX_MESSAGE,
      },
    );
    const pack = new PolicyPackProcess(child, client, eng, ownEngine);
    pack.stdout.push(...stdout);
    pack.stderr.push(...stderr);
    child.stdout?.removeAllListeners("data");
    child.stderr?.removeAllListeners("data");
    const collect = (into: string[]) => {
      let buf = "";
      return (c: Buffer) => {
        buf += c.toString("utf8");
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        into.push(...parts);
      };
    };
    child.stdout?.on("data", collect(pack.stdout));
    child.stderr?.on("data", collect(pack.stderr));
    try {
      await pack.handshake(packDir, eng.address);
      await pack.configureStack(opts);
      await pack.loadInfo();
      await pack.configure(opts.policyConfig ?? {});
    } catch (err) {
      await pack.close();
      throw err;
    }
    return pack;
  }

  private async handshake(packDir: string, engineAddress: string): Promise<void> {
    const req = new analyzerPb.AnalyzerHandshakeRequest();
    req.setEngineAddress(engineAddress);
    req.setRootDirectory(packDir);
    req.setProgramDirectory(packDir);
    try {
      await call(this.client, this.client.handshake, req);
    } catch (err) {
      // As the engine: a pack without Handshake keeps the legacy behaviour.
      if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
    }
  }

  /** ConfigureStack: may be called again to re-run the pack for another context. */
  async configureStack(ctx: StackContext): Promise<void> {
    const req = new analyzerPb.AnalyzerStackConfigureRequest();
    req.setStack(ctx.stack);
    req.setProject(ctx.project);
    req.setOrganization(ctx.organization ?? "");
    req.setDryRun(ctx.dryRun);
    req.setConfigSecretKeysList(ctx.configSecretKeys);
    const config = req.getConfigMap();
    for (const [k, v] of Object.entries(ctx.config)) config.set(k, v);
    const tags = req.getTagsMap();
    for (const [k, v] of Object.entries(ctx.tags)) tags.set(k, v);
    await call(this.client, this.client.configureStack, req);
  }

  private async loadInfo(): Promise<void> {
    const info = await call(this.client, this.client.getAnalyzerInfo, new emptyPb.Empty());
    this.info = {
      name: info.getName(),
      version: info.getVersion(),
      supportsConfig: info.getSupportsconfig(),
      policies: info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        const type = p.getPolicyType();
        return {
          name: p.getName(),
          description: p.getDescription(),
          enforcementLevel: LEVELS[p.getEnforcementlevel()] ?? "advisory",
          type:
            type === analyzerPb.PolicyType.POLICY_TYPE_RESOURCE
              ? "resource"
              : type === analyzerPb.PolicyType.POLICY_TYPE_STACK
                ? "stack"
                : "unknown",
          ...(schema
            ? {
                configSchema: {
                  properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<
                    string,
                    Record<string, unknown>
                  >,
                  required: schema.getRequiredList(),
                },
              }
            : {}),
        };
      }),
    };
    this.pluginVersion = (
      await call(this.client, this.client.getPluginInfo, new emptyPb.Empty())
    ).getVersion();
  }

  /** Configure with the reconciled policy config; throws on a config the CLI would refuse. */
  async configure(file: PolicyPackConfigFile): Promise<void> {
    const { config, errors } = reconcilePolicyConfig(this.info, file);
    this.configErrors = errors;
    if (errors.length > 0) throw new Error(errors.join("\n"));
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(config)) {
      const pc = new analyzerPb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_PB[c.enforcementLevel]);
      pc.setProperties(
        structPb.Struct.fromJavaScript(
          dropUndefined(c.properties) as Record<string, structPb.JavaScriptValue>,
        ),
      );
      map.set(name, pc);
    }
    await call(this.client, this.client.configure, req);
  }

  async analyze(r: AnalyzerResourceInput): Promise<AnalyzeResult> {
    return decode(await call(this.client, this.client.analyze, analyzeRequest(r)));
  }

  async analyzeStack(resources: readonly AnalyzerResourceInput[]): Promise<AnalyzeResult> {
    return decode(
      await call(this.client, this.client.analyzeStack, analyzeStackRequest(resources)),
    );
  }

  /**
   * AnalyzeStack with a request already encoded, so that a benchmark times the pack and not the
   * JavaScript protobuf encoder (the engine encodes in Go).
   */
  sendEncoded(bytes: Uint8Array): Promise<AnalyzeResult> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        "/pulumirpc.Analyzer/AnalyzeStack",
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => analyzerPb.AnalyzeResponse.deserializeBinary(new Uint8Array(b)),
        bytes,
        new grpc.Metadata(),
        { deadline: Date.now() + 600_000 },
        (err, res) => (err || res === undefined ? reject(err) : resolve(decode(res))),
      );
    });
  }

  /** Stops the pack as the engine does when it closes the plugin (kill), and the engine server if ours. */
  async close(): Promise<void> {
    this.client.close();
    if (this.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      this.child.kill("SIGKILL");
      await exited;
    }
    if (this.ownEngine) await this.engine.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The SDK's wire markers, and the policy's view of wire properties.

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Properties as a policy sees them: secrets unwrapped (deserializeProperties), unknowns left as sentinels. */
export function policyView(props: unknown): unknown {
  if (Array.isArray(props)) return props.map(policyView);
  if (props !== null && typeof props === "object") {
    const o = props as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return policyView(o.value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = policyView(v);
    return out;
  }
  return props;
}
